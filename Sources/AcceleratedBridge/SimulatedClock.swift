import Foundation
import SourceKit
import Synchronization

/// One clock for a whole accelerated run: the source runner's schedule (a `Clock`), an adapter's
/// budget, backoff and token expiry (a `SourceClock`) and a simulator (moved by `onAdvance`) all
/// read it, and it only moves when the driver says so.
///
/// Instants are `ContinuousClock.Instant`s (a fixed real base plus the simulated time elapsed), so
/// the publishers' presence and counter rules, which take that type, run on it too.
///
/// Each sleeper is recorded with how long it asked to sleep and whether it sleeps inside an
/// adapter read (``inRead``, set by ``ObservedAdapter``), which is what lets ``ClockDriver`` tell
/// "every task is parked on the clock" from "a read or a publish is still under way".
public final class SimulatedClock: Clock, SourceClock, Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// True in tasks that run an adapter read (its budget waits and retry pauses).
    @TaskLocal public static var inRead = false

    /// A parked sleeper, as the driver sees it.
    public struct Sleeper: Sendable {
        /// How long it asked to sleep.
        public var requested: Duration
        /// When it wakes.
        public var deadline: Instant
        /// Whether it sleeps inside an adapter read.
        public var inRead: Bool
    }

    private struct Parked {
        let id: UInt64
        let sleeper: Sleeper
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var elapsed = Duration.zero
        var parked: [Parked] = []
        var nextID: UInt64 = 0
        var cancelled: Set<UInt64> = []
    }

    private let base = ContinuousClock.now
    private let state = Mutex(State())
    private let onAdvance: @Sendable (Duration) -> Void
    private let wall: @Sendable () -> Date

    /// - Parameters:
    ///   - wallClock: the wall-clock time (a simulator's `now`), for times servers send (JWT `exp`).
    ///   - onAdvance: called with each step before the sleepers it wakes resume (moves a simulator).
    public init(wallClock: @escaping @Sendable () -> Date, onAdvance: @escaping @Sendable (Duration) -> Void) {
        self.wall = wallClock
        self.onAdvance = onAdvance
    }

    /// Simulated time since the clock was made.
    public var elapsed: Duration { state.withLock { $0.elapsed } }

    public var now: Instant { base + elapsed }
    public var minimumResolution: Duration { .zero }
    public var wallClock: Date { wall() }

    /// The sleepers parked right now.
    public var sleepers: [Sleeper] { state.withLock { $0.parked.map(\.sleeper) } }

    /// The earliest deadline of a parked sleeper.
    public var nextDeadline: Instant? { state.withLock { $0.parked.map(\.sleeper.deadline).min() } }

    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration, tolerance: nil)
    }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let inRead = Self.inRead
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    let now = base + state.elapsed
                    if deadline <= now { return .success(()) }
                    let sleeper = Sleeper(requested: now.duration(to: deadline), deadline: deadline, inRead: inRead)
                    state.parked.append(Parked(id: id, sleeper: sleeper, continuation: continuation))
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let parked: Parked? = state.withLock { state in
                guard let index = state.parked.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.parked.remove(at: index)
            }
            parked?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time to `instant` (never back): `onAdvance` first, then the sleepers due wake.
    public func advance(to instant: Instant) {
        let step = state.withLock { state -> Duration in
            let step = max(.zero, (base + state.elapsed).duration(to: instant))
            state.elapsed += step
            return step
        }
        guard step > .zero else { return }
        onAdvance(step)
        let due: [Parked] = state.withLock { state in
            let now = base + state.elapsed
            let due = state.parked.filter { $0.sleeper.deadline <= now }
            state.parked.removeAll { $0.sleeper.deadline <= now }
            return due
        }
        for parked in due { parked.continuation.resume() }
    }
}
