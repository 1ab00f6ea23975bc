import Synchronization

/// The sleep of a source's tick between two pieces of due work (a debounced value to release,
/// a child to remove), woken early when new work is due sooner than it planned for.
///
/// A bridge at rest then sleeps until something is due instead of waking every second to find
/// nothing to do. The publisher tells the alarm through ``poke(_:)``; the tick loop sleeps with
/// ``sleep(until:for:on:)`` after each `tick()`.
final class TickAlarm: Sendable {
    typealias Instant = SourcePublisher.Instant

    private struct State {
        /// The current sleep, while there is one.
        var sleeper: Task<Void, any Error>?
        /// When that sleep ends; `nil` while it waits for a poke only.
        var wakesAt: Instant?
        /// A poke arrived while no sleep was running: the next one ends at once.
        var poked = false
    }

    private let state = Mutex(State())

    /// How long the tick sleeps when nothing is due: only a poke ends it sooner.
    static let idleSleep: Duration = .seconds(86_400)

    /// Sleeps `pause` (until `wakesAt`), or until poked with earlier work; `nil` pause and
    /// instant mean nothing is due. Returns `false` when the calling task was cancelled.
    func sleep(until wakesAt: Instant?, for pause: Duration?, on clock: any Clock<Duration>) async -> Bool {
        let pause = pause ?? Self.idleSleep
        let sleeper = Task { try await clock.sleep(for: pause) }
        let pokedBefore = state.withLock { state in
            if state.poked {
                state.poked = false
                return true
            }
            state.sleeper = sleeper
            state.wakesAt = wakesAt
            return false
        }
        if pokedBefore { sleeper.cancel() }
        _ = await withTaskCancellationHandler {
            await sleeper.result
        } onCancel: {
            sleeper.cancel()
        }
        state.withLock { state in
            state.sleeper = nil
            state.wakesAt = nil
        }
        return !Task.isCancelled
    }

    /// New work is due at `instant` (`nil`: the tick must find out when): ends a sleep that
    /// would wake later, or waits for a poke only.
    func poke(_ instant: Instant?) {
        let sleeper: Task<Void, any Error>? = state.withLock { state in
            guard let sleeper = state.sleeper else {
                state.poked = true
                return nil
            }
            if let wakesAt = state.wakesAt {
                guard let instant, instant < wakesAt else { return nil }
            }
            state.sleeper = nil
            return sleeper
        }
        sleeper?.cancel()
    }
}
