#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The time source of the rate budget, backoff, token expiry and reconnect delays.
///
/// Production uses ``SystemSourceClock``. Tests inject a clock whose `sleep` only advances
/// its own time, so they exercise minutes of backoff without waiting. Network timeouts
/// (request deadlines, stream idle timeouts) always use real time, because they race real I/O.
public protocol SourceClock: Sendable {
    /// Monotonic now, for durations.
    var now: ContinuousClock.Instant { get }
    /// Wall-clock now, for absolute times sent by servers (`Retry-After` dates, JWT `exp`, cookie `Expires`).
    var wallClock: Date { get }
    /// Suspends for `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clock: `ContinuousClock` and `Date()`.
public struct SystemSourceClock: SourceClock {
    /// Creates the system clock.
    public init() {}

    /// `ContinuousClock.now`.
    public var now: ContinuousClock.Instant { ContinuousClock.now }

    /// `Date()`.
    public var wallClock: Date { Date() }

    /// `Task.sleep(for:)`.
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
