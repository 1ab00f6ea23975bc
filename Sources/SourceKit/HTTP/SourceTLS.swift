import NIOSSL

/// How a source's HTTPS and WSS connections verify the server (`ca_file`, `insecure_tls`).
///
/// Verification is on by default, against the system trust store plus ``caFile`` when given.
/// Sources with equal settings share one HTTP client and its connection pool.
public struct SourceTLS: Sendable, Hashable, CustomStringConvertible {
    /// A PEM file of extra CA certificates to trust, for devices with private certificates.
    public var caFile: String?
    /// Skips certificate and host name verification. For testing only: anyone on the path can read the traffic.
    public var insecure: Bool

    /// Creates TLS settings; the defaults verify against the system trust store.
    public init(caFile: String? = nil, insecure: Bool = false) {
        self.caFile = caFile
        self.insecure = insecure
    }

    /// Full verification against the system trust store.
    public static let verified = SourceTLS()

    /// `verified`, `ca_file <path>` or `insecure`, for logs.
    public var description: String {
        if insecure { return "insecure" }
        if let caFile { return "ca_file \(caFile)" }
        return "verified"
    }

    /// The NIOSSL client configuration these settings describe.
    func makeConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if insecure {
            configuration.certificateVerification = .none
        }
        if let caFile {
            configuration.additionalTrustRoots = [.file(caFile)]
        }
        return configuration
    }
}
