/// When a request is sent again after failing.
///
/// Only idempotent requests (GET) are retried, and only for failures that may pass by
/// themselves: connection errors, timeouts and 5xx. A command (POST) is never repeated
/// blindly: the device may have acted on it before the answer was lost. 401 is handled by
/// the auth strategy and 429 by the rate budget, not here.
public struct RetryPolicy: Sendable, Hashable {
    /// Total tries of one request, the first included (1 = no retry).
    public var maxAttempts: Int
    /// The delays between tries.
    public var backoff: Backoff
    /// A 503's `Retry-After` is waited for only up to this long; a longer one fails the request.
    public var maxRetryAfter: Duration

    /// Creates a policy.
    public init(maxAttempts: Int = 3, backoff: Backoff = Backoff(), maxRetryAfter: Duration = .seconds(10)) {
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
        self.maxRetryAfter = maxRetryAfter
    }

    /// Three tries, 0.5 s then 1 s apart (±20 %).
    public static let standard = RetryPolicy()

    /// A single try.
    public static let never = RetryPolicy(maxAttempts: 1)

    /// Whether `error` is worth another try of an idempotent request.
    public static func isTransient(_ error: SourceError) -> Bool {
        switch error {
        case .connection, .timeout, .unavailable: true
        default: false
        }
    }

    /// The delay before the next try after `attempt` tries failed with `error`, or `nil` to give up.
    /// - Parameters:
    ///   - retryAfter: the server's `Retry-After` on a 5xx, which lengthens the delay.
    ///   - random: jitter input in `0..<1`.
    public func delay(
        afterFailure attempt: Int,
        error: SourceError,
        retryAfter: Duration? = nil,
        random: Double = Double.random(in: 0..<1)
    ) -> Duration? {
        guard attempt < maxAttempts, Self.isTransient(error) else { return nil }
        let delay = backoff.delay(afterFailure: attempt, random: random)
        guard let retryAfter else { return delay }
        guard retryAfter <= maxRetryAfter else { return nil }
        return max(delay, retryAfter)
    }
}
