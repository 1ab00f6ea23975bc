import BridgeCore
import Synchronization

/// How long a test waits for something that must happen before it calls it a hang.
///
/// Only a hang trips it: nothing in this suite asserts how fast something happened, so a slow,
/// shared machine makes the tests slower, never red.
let hangLimit: Duration = .seconds(60)

/// Thrown by ``withDeadline(_:_:_:)`` and ``eventually(_:_:)`` when the awaited thing never came.
struct Hang: Error, CustomStringConvertible {
    let what: String
    let limit: Duration

    var description: String { "still waiting for \(what) after \(limit)" }
}

/// Polls `condition` every 10 ms until it holds.
/// - Throws: ``Hang`` when it still does not hold after `limit`.
func eventually(
    _ what: String,
    limit: Duration = hangLimit,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now.advanced(by: limit)
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw Hang(what: what, limit: limit) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Runs `operation` and returns its result, or throws ``Hang`` when it has not finished after `limit`
/// (then the operation is cancelled and left behind, so a stuck client cannot stall the suite).
func withDeadline<T: Sendable>(
    _ what: String,
    limit: Duration = hangLimit,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let race = Race(continuation)
        let work = Task {
            do {
                race.finish(.success(try await operation()))
            } catch {
                race.finish(.failure(error))
            }
        }
        race.setTimer(
            Task {
                do { try await Task.sleep(for: limit) } catch { return }
                if race.finish(.failure(Hang(what: what, limit: limit))) { work.cancel() }
            }
        )
    }
}

/// The first of an operation and its deadline to finish resumes the continuation.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var timer: Task<Void, Never>?
    }

    private let state: Mutex<State>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        state = Mutex(State(continuation: continuation))
    }

    /// Resumes with `result` unless something else did first; returns whether this call did.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (continuation, timer) = state.withLock { state in
            defer { state.continuation = nil }
            return (state.continuation, state.timer)
        }
        guard let continuation else { return false }
        timer?.cancel()
        continuation.resume(with: result)
        return true
    }

    func setTimer(_ timer: Task<Void, Never>) {
        let finished = state.withLock { state in
            state.timer = timer
            return state.continuation == nil
        }
        if finished { timer.cancel() }
    }
}

/// A request started in the background, so a test can check that it is still unanswered while
/// other things happen, and collect its answer later.
final class PendingRequest: Sendable {
    private let task: Task<HTTPResult, any Error>
    private let flag: Flag

    init(_ operation: @escaping @Sendable () async throws -> HTTPResult) {
        let flag = Flag()
        self.flag = flag
        task = Task {
            defer { flag.set() }
            return try await operation()
        }
    }

    /// Whether the answer (or an error) arrived.
    var isFinished: Bool { flag.isSet }

    /// The answer, waiting for it at most `limit`.
    func result(limit: Duration = hangLimit) async throws -> HTTPResult {
        let task = task
        return try await withDeadline("the pending request's answer", limit: limit) { try await task.value }
    }

    /// Cancels the request (a no-op when it is finished).
    func cancel() {
        task.cancel()
    }
}

/// A flag that is set once.
final class Flag: Sendable {
    private let value = Mutex(false)

    var isSet: Bool { value.withLock { $0 } }

    func set() { value.withLock { $0 = true } }
}
