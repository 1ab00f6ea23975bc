/// Everything needed to connect to a broker. Built by the executable from the bridge configuration;
/// this module knows nothing about bridges.
public struct MosquittoConfiguration: Sendable {
    /// `mqtt` (plain TCP, default port 1883) or `mqtts` (TLS, default port 8883).
    public enum Scheme: String, Sendable { case mqtt, mqtts }

    /// TLS files and the hostname-verification switch.
    public struct TLS: Sendable, Hashable {
        /// PEM file of the CA that signed the broker's certificate; nil uses the system store.
        public var caFile: String?
        /// PEM client certificate for mutual TLS (with `keyFile`).
        public var certFile: String?
        /// PEM private key of the client certificate.
        public var keyFile: String?
        /// Skips hostname verification of the broker certificate (chain verification stays on).
        /// Logged as a warning at every start, because it allows man-in-the-middle attacks.
        public var insecure: Bool

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, insecure: Bool = false) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.insecure = insecure
        }
    }

    public var scheme: Scheme
    public var host: String
    public var port: Int
    public var clientID: String
    public var username: String?
    /// The password; never logged. The caller reads `password_file` before building this.
    public var password: String?
    public var protocolVersion: ProtocolVersion
    /// Keepalive interval in seconds (5...65535).
    public var keepalive: Int
    /// TLS settings; used only when `scheme == .mqtts`.
    public var tls: TLS
    /// Published by the broker if the connection dies without a clean disconnect.
    public var will: OutgoingMessage?
    /// Published on every (re)connect, before subscriptions are restored and the offline queue is flushed.
    public var birth: OutgoingMessage?
    /// Published just before a clean disconnect (usually the same topic as the will).
    public var farewell: OutgoingMessage?
    /// Upper bound of the exponential reconnect backoff, in seconds.
    public var reconnectMaxDelay: Int
    /// How many QoS ≥ 1 publishes made while disconnected are kept; overflow drops the oldest.
    public var offlineQueueLimit: Int
    /// How long a QoS ≥ 1 publish waits for its acknowledgement.
    public var publishTimeout: Duration
    /// How many received messages may wait for the consumer before the oldest are dropped.
    public var incomingBufferLimit: Int

    public init(
        scheme: Scheme = .mqtt,
        host: String = "127.0.0.1",
        port: Int? = nil,
        clientID: String = "api2mqtt",
        username: String? = nil,
        password: String? = nil,
        protocolVersion: ProtocolVersion = .v5,
        keepalive: Int = 60,
        tls: TLS = TLS(),
        will: OutgoingMessage? = nil,
        birth: OutgoingMessage? = nil,
        farewell: OutgoingMessage? = nil,
        reconnectMaxDelay: Int = 60,
        offlineQueueLimit: Int = 1000,
        publishTimeout: Duration = .seconds(10),
        incomingBufferLimit: Int = 10_000
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port ?? (scheme == .mqtts ? 8883 : 1883)
        self.clientID = clientID
        self.username = username
        self.password = password
        self.protocolVersion = protocolVersion
        self.keepalive = keepalive
        self.tls = tls
        self.will = will
        self.birth = birth
        self.farewell = farewell
        self.reconnectMaxDelay = reconnectMaxDelay
        self.offlineQueueLimit = offlineQueueLimit
        self.publishTimeout = publishTimeout
        self.incomingBufferLimit = incomingBufferLimit
    }

    /// Parses `mqtt://host[:port]` or `mqtts://host[:port]` (IPv6 hosts in brackets).
    /// - Returns: nil when the URL is not of that form.
    public static func parseBrokerURL(_ string: String) -> (scheme: Scheme, host: String, port: Int)? {
        guard let separator = string.firstRange(of: "://") else { return nil }
        guard let scheme = Scheme(rawValue: String(string[..<separator.lowerBound]).lowercased()) else { return nil }
        var rest = Substring(string[separator.upperBound...])
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@"), !rest.contains("?") else { return nil }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { return nil }
        var port = scheme == .mqtts ? 8883 : 1883
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { return nil }
            port = value
        }
        return (scheme, String(host), port)
    }

    /// `mqtt://host:port` — the broker as named in logs and errors (never with credentials).
    public var brokerDescription: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(shownHost):\(port)"
    }
}
