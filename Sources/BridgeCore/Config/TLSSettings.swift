/// TLS for the broker connection (`mqtt.tls`): a private CA and an optional client certificate.
///
/// Every path has been checked to exist and be readable when the configuration loads.
public struct TLSSettings: Sendable, Hashable, Encodable {
    /// PEM file with the CA certificate(s) that sign the broker's certificate (`ca_file`);
    /// `nil` uses the system trust store.
    public var caFile: String?
    /// PEM client certificate for mutual TLS (`cert_file`); always given together with ``keyFile``.
    public var certFile: String?
    /// PEM private key of ``certFile`` (`key_file`).
    public var keyFile: String?
    /// Skips verifying the broker's certificate and host name (`insecure`, default false).
    /// For testing only: it allows anyone on the path to read the traffic.
    public var insecure: Bool

    /// Creates TLS settings.
    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, insecure: Bool = false) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.insecure = insecure
    }

    enum CodingKeys: String, CodingKey {
        case caFile = "ca_file"
        case certFile = "cert_file"
        case keyFile = "key_file"
        case insecure
    }
}
