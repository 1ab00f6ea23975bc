/// Exponential backoff with jitter: `initial × multiplier^(attempt-1)`, capped at `maximum`,
/// then shortened by up to `jitter` of itself at random so many clients don't retry in step.
public struct Backoff: Sendable, Hashable {
    /// The first delay.
    public var initial: Duration
    /// The longest delay.
    public var maximum: Duration
    /// The growth per attempt.
    public var multiplier: Double
    /// The fraction (0…1) by which a delay may be shortened at random.
    public var jitter: Double

    /// Creates a backoff.
    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30), multiplier: Double = 2, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = max(1, multiplier)
        self.jitter = min(max(0, jitter), 1)
    }

    /// The delay before attempt `attempt + 1`, after `attempt` failures (1-based).
    /// - Parameter random: a value in `0..<1`; pass a fixed one in tests.
    public func delay(afterFailure attempt: Int, random: Double = Double.random(in: 0..<1)) -> Duration {
        let exponent = Double(max(0, attempt - 1))
        let base = min(maximum, initial * min(pow(multiplier, exponent), 1e9))
        return base * (1 - jitter * min(max(random, 0), 1))
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && result < 1e9 {
            result *= base
            remaining -= 1
        }
        return result
    }
}
