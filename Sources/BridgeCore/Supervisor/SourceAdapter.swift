/// Reads one API and performs its actions. Knows transport, auth, paging and streams; knows
/// nothing about units, Home Assistant or MQTT topics — the mapping file owns those.
///
/// The supervisor drives it: it polls `polls` on their schedules, consumes `stream()` while it
/// runs (polling `streamFallback` while the stream is down), and forwards commands.
public protocol SourceAdapter: Sendable {
    /// Endpoints to poll, each on its own interval.
    var polls: [PollSchedule] { get }

    /// Endpoints polled only while the stream is down (the stream otherwise delivers them).
    var streamFallback: [PollSchedule] { get }

    /// Reads one endpoint now.
    /// - Returns: the document, or nil when it has not changed since the last read (HTTP 304).
    /// - Throws: any error; its description must be one line without secrets (it is logged and
    ///   shown in `bridge/sources`). A ``SourceFailure`` (or an error convertible to one) says
    ///   what it means: `noDataYet` and `rateLimited` do not count as failures.
    func read(endpoint: String) async throws -> JSONValue?

    /// True when the source pushes documents (`stream()` is then called, and called again after
    /// every drop).
    var hasStream: Bool { get }

    /// Documents pushed by the device (SSE, WebSocket), or nil when the source has no stream.
    /// The sequence ends or throws when the stream drops; the supervisor calls again to reconnect.
    func stream() -> AsyncThrowingStream<SourceDocument, any Error>?

    /// How long the stream may stay connected without a document that confirms it (live data)
    /// before the supervisor ends it, polls the fallback endpoints and reconnects later; `nil`
    /// trusts the transport to notice a dead stream.
    var streamSilence: Duration? { get }

    /// Sends a call declared in the mapping (`call:`); never retried blindly.
    func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int?

    /// Runs an action the mapping could not express as a call (`action:`).
    func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int?

    /// Request count, latency, rate budget — for `bridge/sources`.
    func statistics() async -> AdapterStatistics

    /// The longest a read may wait for the source's request budget before it is sent (zero
    /// without a budget). The supervisor's read deadline allows for it.
    var maximumBudgetWait: Duration { get }
}

extension SourceAdapter {
    public var streamFallback: [PollSchedule] { [] }
    public var hasStream: Bool { false }
    public func stream() -> AsyncThrowingStream<SourceDocument, any Error>? { nil }
    public var streamSilence: Duration? { nil }
    public func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        throw CommandFailure(.notSupported, "action '\(action)' is not implemented by this source")
    }
    public func statistics() async -> AdapterStatistics { AdapterStatistics() }
    public var maximumBudgetWait: Duration { .zero }
}

/// One endpoint on a schedule.
public struct PollSchedule: Sendable, Hashable {
    public var endpoint: String
    public var interval: Duration

    public init(endpoint: String, every interval: Duration) {
        self.endpoint = endpoint
        self.interval = interval
    }
}

/// A document from a source, by the mapping's endpoint name.
public struct SourceDocument: Sendable, Hashable {
    public var endpoint: String
    public var document: JSONValue
    /// The source reported a genuine counter reset (e.g. a meter replaced).
    public var counterReset: Bool
    /// Whether this document shows the stream is doing its job (live data). A snapshot that a
    /// device sends on every connect does not: a device that drops each stream right after its
    /// snapshot must count as "stream down", so the fallback endpoints are polled.
    public var confirmsStream: Bool

    public init(endpoint: String, document: JSONValue, counterReset: Bool = false, confirmsStream: Bool = true) {
        self.endpoint = endpoint
        self.document = document
        self.counterReset = counterReset
        self.confirmsStream = confirmsStream
    }
}

/// Transport figures an adapter reports for `bridge/sources`.
public struct AdapterStatistics: Sendable, Hashable {
    public var requests: Int
    public var lastLatency: Duration?
    /// Requests left in the rate budget's current window, when the source has one.
    public var rateBudgetLeft: Int?

    public init(requests: Int = 0, lastLatency: Duration? = nil, rateBudgetLeft: Int? = nil) {
        self.requests = requests
        self.lastLatency = lastLatency
        self.rateBudgetLeft = rateBudgetLeft
    }
}
