import Foundation
import SourceKit
import Synchronization

/// A ``SourceClock`` whose `sleep` returns at once after advancing its own time and
/// recording the duration, so tests cover minutes of backoff without waiting.
final class TestClock: SourceClock {
    private struct State {
        var offset: Duration = .zero
        var sleeps: [Duration] = []
    }

    /// The wall-clock time at offset zero: 2023-11-14T22:13:20Z.
    static let epoch = Date(timeIntervalSince1970: 1_700_000_000)

    private let base = ContinuousClock.now
    private let state = Mutex(State())

    init() {}

    var now: ContinuousClock.Instant { base + state.withLock { $0.offset } }

    var wallClock: Date {
        let offset = state.withLock { $0.offset }
        return Self.epoch.addingTimeInterval(Double(offset.components.seconds) + Double(offset.components.attoseconds) / 1e18)
    }

    /// Every duration slept so far, in order.
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        state.withLock { state in
            state.sleeps.append(duration)
            state.offset += duration
        }
        await Task.yield()
    }

    /// Moves time forward without a sleep.
    func advance(by duration: Duration) {
        state.withLock { $0.offset += duration }
    }
}
