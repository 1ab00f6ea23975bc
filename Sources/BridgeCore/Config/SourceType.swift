/// The kinds of API the bridge can read, by the `type:` written in the configuration.
public enum SourceType: String, Sendable, Hashable, CaseIterable, Encodable, CustomStringConvertible {
    /// Cozify HAN reader: a local electricity meter interface (REST, SSE, WebSocket).
    case cozifyHAN = "cozify_han"
    /// FlowerHub cloud portal: a home battery system (HTTPS, cookie login).
    case flowerhub
    /// An OCPP central system's REST API: EV charge points.
    case ocppCSMS = "ocpp_csms"
    /// A FRITZ!Box network API: WAN state and device presence.
    case fritzNetwork = "fritz_network"
    /// A TinyBMS gateway: a battery management system (REST, WebSocket).
    case tinyBMS = "tinybms"

    /// The `type:` value, such as `cozify_han`.
    public var description: String { rawValue }
}
