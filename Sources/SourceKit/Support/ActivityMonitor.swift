import Synchronization

/// Notices when a stream has gone quiet: ``touch()`` on every chunk or message, and
/// ``expire(after:)`` throws once nothing arrived for the idle time.
///
/// Uses real time (`ContinuousClock`), because it races real network I/O.
final class ActivityMonitor: Sendable {
    private let last = Mutex(ContinuousClock.now)

    /// Starts with "active now".
    init() {}

    /// Records activity now.
    func touch() {
        let now = ContinuousClock.now
        last.withLock { $0 = now }
    }

    /// Returns never; throws ``SourceError/timeout(after:)`` after `idle` without activity,
    /// or `CancellationError` when cancelled.
    func expire(after idle: Duration) async throws -> Never {
        while true {
            let deadline = last.withLock { $0 } + idle
            if ContinuousClock.now >= deadline {
                throw SourceError.timeout(after: idle)
            }
            try await Task.sleep(until: deadline, clock: .continuous)
        }
    }
}
