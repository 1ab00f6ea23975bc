/// One misbehaviour a simulator can be told to show, switched on and off at run time through a ``FaultPlan``.
///
/// Faults describe the transport, not a device: every simulator honours all of them the same way,
/// through ``FaultMiddleware`` (HTTP) and its stream handlers (SSE and WebSocket). Device-specific
/// misbehaviour of the payloads lives in ``Quirk``s instead.
public enum Fault: Hashable, Sendable, CustomStringConvertible {
    /// Answer with this HTTP status code and an empty body instead of running the handler (e.g. `500`).
    case httpError(Int)
    /// Never answer: the request hangs until the client gives up, the fault is switched off
    /// (then the request is answered normally) or the simulator stops.
    case timeout
    /// Wait this long before handling the request.
    case slow(Duration)
    /// Truncate every JSON document (HTTP bodies, SSE `data:` and WebSocket text frames) so it no longer parses.
    case malformedJSON
    /// Answer 401 whatever credentials the request carries.
    case unauthorized
    /// Close every open SSE/WebSocket stream on the scope now, and while active close each new stream
    /// right after its initial snapshot. ``FaultPlan/dropStreams(on:)`` does the first part only.
    case dropStreams

    /// A short name for logs and test output, e.g. `httpError(500)`.
    public var description: String {
        switch self {
        case .httpError(let status): "httpError(\(status))"
        case .timeout: "timeout"
        case .slow(let duration): "slow(\(duration))"
        case .malformedJSON: "malformedJSON"
        case .unauthorized: "unauthorized"
        case .dropStreams: "dropStreams"
        }
    }
}

/// Which requests a ``Fault`` applies to.
public enum FaultScope: Hashable, Sendable {
    /// Every path of the simulator.
    case all
    /// Only requests whose path is exactly one of these (e.g. `["/meter", "/sse"]`).
    case paths(Set<String>)

    /// Whether a request for `path` falls under this scope.
    public func matches(_ path: String) -> Bool {
        switch self {
        case .all: true
        case .paths(let paths): paths.contains(path)
        }
    }
}

/// An active fault together with the paths it applies to.
public struct FaultRule: Hashable, Sendable {
    /// What goes wrong.
    public var fault: Fault
    /// Where it goes wrong.
    public var scope: FaultScope

    /// Creates a rule applying `fault` to the requests in `scope`.
    public init(fault: Fault, scope: FaultScope = .all) {
        self.fault = fault
        self.scope = scope
    }
}

/// A device-specific payload quirk, such as "timestamps in seconds" for the Cozify HAN reader.
///
/// Each simulator declares its quirks as static members in an extension (see `Quirk.timestampsInSeconds`),
/// and ``FaultPlan`` switches them on for good or for a number of uses.
public struct Quirk: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// A stable name, prefixed by the simulator's source type (`cozify_han.busLoss`).
    public let rawValue: String

    /// Creates a quirk from its stable name.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Creates a quirk from its stable name.
    public init(_ name: String) {
        self.rawValue = name
    }

    /// The stable name.
    public var description: String { rawValue }
}
