/// A source's request allowance: every request, login and stream connect draws from it.
///
/// Wraps a ``TokenBucket`` with a clock. ``acquire(_:)`` waits (on the injected clock) until
/// a token is available, unless the wait would exceed ``maxWait`` or the server said 429, in
/// which case it fails at once with ``SourceError/rateLimited(retryAfter:)`` so the caller's
/// schedule, not a sleeping task, decides when to come back. `nil` limits mean no budget,
/// but a 429 still closes the source for the server's `Retry-After` (at least
/// ``minimumBackoff`` when the server names none).
///
/// ```swift
/// // Fritz!Box: 10 requests/minute per identity; budget 6, one kept for commands.
/// let budget = RateBudget(requestsPerMinute: 6, reserve: 1)
/// ```
public actor RateBudget {
    /// The longest ``acquire(_:)`` waits for a token before failing.
    public let maxWait: Duration
    /// The pause after a 429 without `Retry-After` (also the least pause after any 429).
    public let minimumBackoff: Duration
    private let clock: any SourceClock
    private var bucket: TokenBucket?
    private var blockedUntil: ContinuousClock.Instant?
    private var window: RollingWindow?
    private let minimumPenalty: Duration

    /// Creates a budget; `requestsPerMinute: nil` means unlimited (429s are still honoured).
    /// - Parameters:
    ///   - requestsPerMinute: the sustained rate.
    ///   - burst: the most requests in a burst; default one minute's worth.
    ///   - reserve: tokens kept for ``RequestPriority/command`` requests.
    ///   - maxWait: the longest wait for a token.
    ///   - minimumBackoff: the pause after a 429 that names no `Retry-After`.
    ///   - clock: the clock to wait on.
    ///   - rollingLimit: when set, never more than this many requests in any rolling minute
    ///     (a ``RollingWindow`` on top of the bucket), whatever the priority.
    ///   - rollingWindow: the window of `rollingLimit`; a little over a minute leaves a margin for
    ///     latency jitter between the grant here and the server's own count.
    ///   - minimumPenalty: the least pause after any 429, even one whose `Retry-After` is shorter.
    public init(
        requestsPerMinute: Double? = nil,
        burst: Int? = nil,
        reserve: Int = 1,
        maxWait: Duration = .seconds(60),
        minimumBackoff: Duration = .seconds(60),
        clock: any SourceClock = SystemSourceClock(),
        rollingLimit: Int? = nil,
        rollingWindow: Duration = .seconds(60),
        minimumPenalty: Duration = .zero
    ) {
        self.minimumPenalty = minimumPenalty
        self.window = rollingLimit.map { RollingWindow(limit: $0, length: rollingWindow) }
        self.clock = clock
        self.maxWait = maxWait
        self.minimumBackoff = minimumBackoff
        self.bucket = requestsPerMinute.map {
            TokenBucket(requestsPerMinute: $0, capacity: burst, reserve: reserve, now: clock.now)
        }
    }

    /// Takes one request's worth of budget, waiting for it if that is quick enough.
    /// - Throws: ``SourceError/rateLimited(retryAfter:)`` when blocked by a 429 or the wait
    ///   would exceed ``maxWait``; ``SourceError/cancelled`` when the task is cancelled while waiting.
    public func acquire(_ priority: RequestPriority) async throws(SourceError) {
        while true {
            let now = clock.now
            if let blockedUntil, now < blockedUntil {
                throw .rateLimited(retryAfter: blockedUntil - now)
            }
            if var current = window {
                let delay = current.delay(now: now)
                window = current
                if delay > .zero {
                    guard delay <= maxWait else { throw .rateLimited(retryAfter: delay) }
                    do {
                        try await clock.sleep(for: delay)
                    } catch {
                        throw .cancelled
                    }
                    continue
                }
            }
            guard var current = bucket else {
                window?.record(now: now)
                return
            }
            let decision = current.take(priority, now: now)
            bucket = current
            switch decision {
            case .granted:
                window?.record(now: now)
                return
            case .blocked(let remaining):
                throw .rateLimited(retryAfter: remaining)
            case .wait(let delay):
                guard delay <= maxWait else { throw .rateLimited(retryAfter: delay) }
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    throw .cancelled
                }
            }
        }
    }

    /// Records a 429: no request goes out for `retryAfter` (at least ``minimumBackoff`` when `nil`).
    /// - Returns: the pause applied.
    @discardableResult
    public func penalize(retryAfter: Duration?) -> Duration {
        let pause = max(retryAfter ?? minimumBackoff, minimumPenalty)
        let now = clock.now
        let until = now + pause
        if blockedUntil.map({ $0 < until }) ?? true { blockedUntil = until }
        bucket?.block(for: pause, now: now)
        return pause
    }

    /// Whole requests `priority` may send right now; `nil` when the budget is unlimited and open.
    public func remaining(for priority: RequestPriority = .poll) -> Int? {
        let now = clock.now
        if let blockedUntil, now < blockedUntil { return 0 }
        let inWindow = window?.remaining(now: now)
        guard let fromBucket = bucket?.available(to: priority, now: now) else { return inWindow }
        return inWindow.map { min($0, fromBucket) } ?? fromBucket
    }

    /// How much longer a 429 keeps the source closed, or `nil`.
    public var blockedFor: Duration? {
        guard let blockedUntil else { return nil }
        let now = clock.now
        return now < blockedUntil ? blockedUntil - now : nil
    }
}
