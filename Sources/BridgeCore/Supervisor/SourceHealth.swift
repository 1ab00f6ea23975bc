/// A source's health as the supervisor sees it: pure state, stepped by the supervisor with
/// explicit instants, so transitions can be tested without a clock.
///
/// - `online`: reads succeed (and the stream, if any, is up).
/// - `degraded`: data still flows, but not as designed (stream down with polling fallback
///   working, or some endpoints failing while others succeed).
/// - `offline`: nothing succeeding since either every endpoint of one poll round failed (the
///   ``roundEndpoints``: those on the source's shortest schedule) or `offlineAfter` reads failed
///   in a row, whichever comes first. So a source whose every read fails is offline within one
///   interval, and one endpoint failing alone (an old firmware's missing path) only degrades it.
public struct SourceHealth: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case starting, online, degraded, offline
    }

    public private(set) var status: Status = .starting
    public private(set) var lastSuccess: ContinuousClock.Instant?
    public private(set) var lastError: String?
    public private(set) var consecutiveFailures = 0
    public private(set) var streamUp: Bool?
    /// Endpoints whose last read failed.
    public private(set) var failingEndpoints: Set<String> = []
    public let offlineAfter: Int
    /// The endpoints read most often: once each has failed with nothing succeeding since, the
    /// source is offline without waiting for `offlineAfter` failures. Empty: only `offlineAfter`.
    public let roundEndpoints: Set<String>
    /// Endpoints that failed since the last success.
    private var failedSinceSuccess: Set<String> = []

    public init(offlineAfter: Int = 3, roundEndpoints: Set<String> = []) {
        self.offlineAfter = max(1, offlineAfter)
        self.roundEndpoints = roundEndpoints
    }

    /// Records a successful read or stream document. Returns the new status if it changed.
    public mutating func succeeded(endpoint: String?, at instant: ContinuousClock.Instant) -> Status? {
        lastSuccess = instant
        consecutiveFailures = 0
        failedSinceSuccess.removeAll()
        if let endpoint { failingEndpoints.remove(endpoint) }
        return update()
    }

    /// Records a failed read. Returns the new status if it changed.
    public mutating func failed(endpoint: String?, error: String) -> Status? {
        lastError = error
        consecutiveFailures += 1
        if let endpoint {
            failingEndpoints.insert(endpoint)
            failedSinceSuccess.insert(endpoint)
        }
        return update()
    }

    /// Records why the source is waiting (rate limited) without counting it as a failure.
    public mutating func note(_ message: String) {
        lastError = message
    }

    /// Records the stream going up or down. Returns the new status if it changed.
    /// - Parameter replacing: endpoints the stream replaces (polled only while it is down):
    ///   a stream that is up answers for them, so their last failed poll no longer counts.
    public mutating func stream(up: Bool, error: String? = nil, replacing endpoints: Set<String> = []) -> Status? {
        streamUp = up
        if let error { lastError = error }
        if up { failingEndpoints.subtract(endpoints) }
        return update()
    }

    private mutating func update() -> Status? {
        let next: Status
        let roundFailed = !roundEndpoints.isEmpty && roundEndpoints.isSubset(of: failedSinceSuccess)
        let down = consecutiveFailures >= offlineAfter || roundFailed
        if down || (lastSuccess == nil && consecutiveFailures > 0) {
            next = down ? .offline : (status == .starting ? .starting : status)
        } else if lastSuccess == nil {
            next = .starting
        } else if streamUp == false || !failingEndpoints.isEmpty {
            next = .degraded
        } else {
            next = .online
        }
        guard next != status else { return nil }
        status = next
        return next
    }
}
