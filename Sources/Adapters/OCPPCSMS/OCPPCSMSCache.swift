import BridgeCore
import SourceKit
import Synchronization

/// One list the adapter reads from the CSMS (`/chp`, `/transactions/active`), kept so that the
/// endpoints built from it in the same poll round share one request, and so that commands can
/// check charge points, connectors and transaction ids against the last poll.
///
/// Concurrent readers of a stale list share one request.
final class OCPPCSMSCache: Sendable {
    private struct State {
        var items: [JSONValue]?
        var readAt: ContinuousClock.Instant?
        var stale = true
        var flight: Task<Result<[JSONValue], SourceError>, Never>?
    }

    private let state = Mutex(State())

    /// The last list read, however old (`nil` before the first read).
    var last: [JSONValue]? { state.withLock { $0.items } }

    /// Marks the list stale: the next ``get(maxAge:fetch:)`` reads it again (after a command, or
    /// when the WebSocket reports a change).
    func invalidate() {
        state.withLock { $0.stale = true }
    }

    /// The list, read again unless it was read less than `maxAge` ago and is not stale.
    func get(maxAge: Duration, fetch: @escaping @Sendable () async -> Result<[JSONValue], SourceError>) async throws(SourceError) -> [JSONValue] {
        let now = ContinuousClock.now
        let task: Task<Result<[JSONValue], SourceError>, Never> = state.withLock { state in
            if let flight = state.flight { return flight }
            if !state.stale, let items = state.items, let readAt = state.readAt, now - readAt < maxAge {
                return Task { .success(items) }
            }
            let flight = Task { () -> Result<[JSONValue], SourceError> in
                let result = await fetch()
                self.state.withLock { state in
                    state.flight = nil
                    if case .success(let items) = result {
                        state.items = items
                        state.readAt = .now
                        state.stale = false
                    }
                }
                return result
            }
            state.flight = flight
            return flight
        }
        return try await task.value.get()
    }
}
