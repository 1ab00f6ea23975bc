/// The pure arithmetic of a rate budget: a token bucket with a reserve and a penalty box.
///
/// Holds up to ``capacity`` tokens and gains one every ``interval``. Each request takes one.
/// Requests below ``RequestPriority/command`` may not take the last ``reserve`` tokens, so
/// polling never starves commands. After a 429 the bucket is empty and closed until the
/// server's `Retry-After` has passed. It takes `now` as an argument and never sleeps, so
/// tests drive it with plain instants.
public struct TokenBucket: Sendable, Hashable {
    /// What a request may do now.
    public enum Decision: Sendable, Hashable {
        /// A token was taken; go ahead.
        case granted
        /// Not enough tokens yet; try again after this long.
        case wait(Duration)
        /// Closed after a 429 for this much longer.
        case blocked(Duration)
    }

    /// The most tokens the bucket holds (the burst size).
    public let capacity: Int
    /// The time one token takes to come back.
    public let interval: Duration
    /// Tokens only ``RequestPriority/command`` requests may take.
    public let reserve: Int
    /// Tokens available now (fractional while refilling).
    public private(set) var tokens: Double
    private var updated: ContinuousClock.Instant
    private var blockedUntil: ContinuousClock.Instant?

    /// Creates a full bucket allowing `requestsPerMinute`, bursting up to `capacity` (default: one minute's worth).
    public init(requestsPerMinute: Double, capacity: Int? = nil, reserve: Int = 1, now: ContinuousClock.Instant) {
        let perMinute = max(requestsPerMinute, 0.001)
        self.capacity = max(1, capacity ?? Int(perMinute.rounded(.up)))
        self.interval = .milliseconds(Int64((60_000 / perMinute).rounded()))
        self.reserve = min(max(0, reserve), self.capacity - 1)
        self.tokens = Double(self.capacity)
        self.updated = now
    }

    /// Takes a token for a request of `priority` if one is available to it.
    public mutating func take(_ priority: RequestPriority, now: ContinuousClock.Instant) -> Decision {
        refill(now)
        if let blockedUntil {
            if now < blockedUntil { return .blocked(blockedUntil - now) }
            self.blockedUntil = nil
        }
        let needed = priority == .command ? 1.0 : Double(reserve + 1)
        if tokens + 1e-9 >= needed {
            tokens -= 1
            return .granted
        }
        let missing = needed - tokens
        return .wait(interval * missing)
    }

    /// Empties the bucket and closes it for `duration` (a 429 answer).
    public mutating func block(for duration: Duration, now: ContinuousClock.Instant) {
        refill(now)
        tokens = 0
        let until = now + duration
        if let blockedUntil, blockedUntil > until { return }
        blockedUntil = until
    }

    /// Whole tokens available to `priority` at `now`.
    public mutating func available(to priority: RequestPriority = .command, now: ContinuousClock.Instant) -> Int {
        refill(now)
        if let blockedUntil, now < blockedUntil { return 0 }
        let usable = priority == .command ? tokens : tokens - Double(reserve)
        return max(0, Int(usable.rounded(.down)))
    }

    /// How much longer the bucket stays closed, or `nil`.
    public func blockedFor(now: ContinuousClock.Instant) -> Duration? {
        guard let blockedUntil, now < blockedUntil else { return nil }
        return blockedUntil - now
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        guard now > updated else { return }
        let gained = (now - updated) / interval
        tokens = min(Double(capacity), tokens + gained)
        updated = now
    }
}
