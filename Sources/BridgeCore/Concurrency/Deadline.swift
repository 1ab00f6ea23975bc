import Synchronization

/// Runs `operation` in its own task and returns its value, or `fallback` once `timeout` has
/// passed on `clock` or the caller is cancelled. It never waits for an operation past that
/// point: one that ignores cancellation (a call stuck in a library) is cancelled and left to end
/// on its own, so the caller goes on in time.
///
/// A task group cannot do this: it always waits for its children, including a stuck one.
func withDeadline<Value: Sendable>(
    _ timeout: Duration, clock: any Clock<Duration> = ContinuousClock(), fallback: Value,
    _ operation: @escaping @Sendable () async -> Value
) async -> Value {
    let work = Task { await operation() }
    let outcome = FirstOutcome<Value>()
    let timer = Task {
        try? await clock.sleep(for: timeout)
        if outcome.settle(fallback) { work.cancel() }
    }
    Task {
        let value = await work.value
        if outcome.settle(value) { timer.cancel() }
    }
    return await withTaskCancellationHandler {
        await outcome.value()
    } onCancel: {
        if outcome.settle(fallback) {
            work.cancel()
            timer.cancel()
        }
    }
}

/// The first of several racing outcomes; the others are ignored.
private final class FirstOutcome<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiter: CheckedContinuation<Value, Never>?
    }

    private let state = Mutex(State())

    /// Records `value` unless an outcome is already in; returns whether this one won.
    func settle(_ value: Value) -> Bool {
        let (won, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Value, Never>?) in
            guard state.value == nil else { return (false, nil) }
            state.value = value
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(returning: value)
        return won
    }

    /// Waits for the first outcome.
    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Value? in
                if let value = state.value { return value }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
