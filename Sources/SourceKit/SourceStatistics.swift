/// Counters of one source's HTTP traffic, for `bridge/sources` and `/metrics`.
public struct SourceStatistics: Sendable, Hashable {
    /// HTTP exchanges sent (logins, retries and stream connects included).
    public var requests = 0
    /// Exchanges that failed: transport errors and answers other than 2xx/304.
    public var failures = 0
    /// Conditional GETs answered 304 Not Modified.
    public var notModified = 0
    /// GETs sent again after a transient failure.
    public var retries = 0
    /// Latency of the last completed exchange.
    public var lastLatency: Duration?
    /// Status of the last completed exchange.
    public var lastStatus: Int?
    /// The last failure, as its one-line description.
    public var lastError: String?

    /// Creates zeroed counters.
    public init() {}

    mutating func record(status: Int, latency: Duration) {
        requests += 1
        lastLatency = latency
        lastStatus = status
        if status == 304 { notModified += 1 }
        if !(200..<400).contains(status) {
            failures += 1
            lastError = "HTTP \(status)"
        }
    }

    mutating func record(failure: SourceError) {
        requests += 1
        failures += 1
        lastError = failure.description
    }
}
