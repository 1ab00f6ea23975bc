#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the MQTT broker listens: `mqtt://host:1883` or `mqtts://host:8883`.
///
/// Only the scheme, host and port are allowed. Credentials belong in `mqtt.username` and
/// `mqtt.password` (so they can come from a file), never in the URL, where they would end
/// up in logs and `bridge/info`.
public struct BrokerURL: Sendable, Hashable, CustomStringConvertible, Encodable {
    /// Plain TCP or TLS.
    public enum Scheme: String, Sendable, Hashable {
        /// MQTT over TCP, default port 1883.
        case mqtt
        /// MQTT over TLS, default port 8883.
        case mqtts

        /// The IANA port for the scheme.
        public var defaultPort: Int {
            switch self {
            case .mqtt: 1883
            case .mqtts: 8883
            }
        }
    }

    /// Whether the connection uses TLS.
    public let scheme: Scheme
    /// Host name or IP address, without brackets for IPv6 (`::1`).
    public let host: String
    /// TCP port, 1...65535; the scheme's default when the URL names none.
    public let port: Int

    /// Creates a broker address.
    public init(scheme: Scheme, host: String, port: Int? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port ?? scheme.defaultPort
    }

    /// Parses `mqtt://host[:port]` or `mqtts://host[:port]`.
    ///
    /// - Returns: The address, or a one-line reason that never repeats the URL (it may hold a password).
    public static func parse(_ text: String) -> Result<BrokerURL, ParseError> {
        guard let components = URLComponents(string: text), let schemeText = components.scheme else {
            return .failure(ParseError("expected a URL like mqtt://127.0.0.1:1883 or mqtts://broker.example:8883"))
        }
        guard let scheme = Scheme(rawValue: schemeText.lowercased()) else {
            return .failure(ParseError("unsupported scheme '\(schemeText)' (use mqtt:// or mqtts://)"))
        }
        guard components.user == nil, components.password == nil else {
            return .failure(ParseError("must not contain credentials; use mqtt.username and mqtt.password"))
        }
        guard let rawHost = components.host, !rawHost.isEmpty else {
            return .failure(ParseError("expected a host, as in \(scheme.rawValue)://127.0.0.1"))
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil
        else {
            return .failure(ParseError("must not have a path, query or fragment; only \(scheme.rawValue)://host:port"))
        }
        if let port = components.port, !(1...65535).contains(port) {
            return .failure(ParseError("port must be between 1 and 65535, got \(port)"))
        }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        return .success(BrokerURL(scheme: scheme, host: host, port: components.port))
    }

    /// Why a broker URL was rejected.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// One line, without the URL itself.
        public let description: String

        init(_ description: String) { self.description = description }
    }

    /// `mqtt://host:port`, with IPv6 hosts in brackets.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(hostPart):\(port)"
    }

    /// Encodes as the URL string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
