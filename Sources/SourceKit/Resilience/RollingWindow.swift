/// A hard cap on requests in any rolling window (a sliding log of grant times).
///
/// A ``TokenBucket`` allows its capacity as a burst and then refills, so a full bucket plus a
/// minute of refill can put almost twice the per-minute rate into one rolling minute. APIs that
/// count "N requests in any 60 s" (the Fritz!Box network API: 10 per identity) need this cap on top.
/// Pure arithmetic on instants, like ``TokenBucket``.
public struct RollingWindow: Sendable, Hashable {
    /// The most grants in any window.
    public let limit: Int
    /// The window's length.
    public let length: Duration
    private var grants: [ContinuousClock.Instant] = []

    /// Creates an empty window allowing `limit` grants per `length`.
    public init(limit: Int, length: Duration = .seconds(60)) {
        self.limit = max(1, limit)
        self.length = length
    }

    /// How long until one more grant fits (`.zero` when it fits now).
    public mutating func delay(now: ContinuousClock.Instant) -> Duration {
        prune(now)
        guard grants.count >= limit, let oldest = grants.first else { return .zero }
        return max(.zero, oldest + length - now)
    }

    /// Records a grant at `now` (call only after ``delay(now:)`` returned `.zero`).
    public mutating func record(now: ContinuousClock.Instant) {
        grants.append(now)
    }

    /// Grants still possible in the window ending at `now`.
    public mutating func remaining(now: ContinuousClock.Instant) -> Int {
        prune(now)
        return max(0, limit - grants.count)
    }

    private mutating func prune(_ now: ContinuousClock.Instant) {
        let start = now - length
        if let keep = grants.firstIndex(where: { $0 > start }) {
            if keep > 0 { grants.removeFirst(keep) }
        } else {
            grants.removeAll()
        }
    }
}
