import BridgeCore
import SourceKit
import Synchronization

/// One list the adapter reads from the CSMS (`/chp`, `/transactions/active`), kept so that the
/// endpoints built from it in the same poll round share one request, and so that commands can
/// check charge points, connectors and transaction ids against the last poll.
///
/// Concurrent readers of a stale list share one request.
final class OCPPCSMSCache: Sendable {
    /// A list as read, numbered: a later read has a higher generation.
    struct Snapshot: Sendable {
        var items: [JSONValue]
        var generation: Int
    }

    private struct State {
        var items: [JSONValue]?
        var generation = 0
        var readAt: ContinuousClock.Instant?
        var stale = true
        var flight: Task<Result<Snapshot, SourceError>, Never>?
    }

    private let state = Mutex(State())
    /// The time list ages are measured on (the adapter's clock).
    private let clock: any SourceClock

    init(clock: any SourceClock = SystemSourceClock()) {
        self.clock = clock
    }

    /// The last list read, however old (`nil` before the first read).
    var last: [JSONValue]? { state.withLock { $0.items } }

    /// Marks the list stale: the next ``get(maxAge:fetch:)`` reads it again (after a command, or
    /// when the WebSocket reports a change).
    func invalidate() {
        state.withLock { $0.stale = true }
    }

    /// The list, read again unless it was read less than `maxAge` ago and is not stale.
    func get(maxAge: Duration, fetch: @escaping @Sendable () async -> Result<[JSONValue], SourceError>) async throws(SourceError) -> [JSONValue] {
        try await snapshot(maxAge: maxAge, fetch: fetch).items
    }

    /// Like ``get(maxAge:fetch:)``, with the generation of the read it returns.
    func snapshot(maxAge: Duration, fetch: @escaping @Sendable () async -> Result<[JSONValue], SourceError>) async throws(SourceError) -> Snapshot {
        let now = clock.now
        let task: Task<Result<Snapshot, SourceError>, Never> = state.withLock { state in
            if let flight = state.flight { return flight }
            if !state.stale, let items = state.items, let readAt = state.readAt, now - readAt < maxAge {
                let snapshot = Snapshot(items: items, generation: state.generation)
                return Task { .success(snapshot) }
            }
            let flight = Task { () -> Result<Snapshot, SourceError> in
                let result = await fetch()
                return self.state.withLock { state -> Result<Snapshot, SourceError> in
                    state.flight = nil
                    switch result {
                    case .success(let items):
                        state.items = items
                        state.generation += 1
                        state.readAt = self.clock.now
                        state.stale = false
                        return .success(Snapshot(items: items, generation: state.generation))
                    case .failure(let error):
                        return .failure(error)
                    }
                }
            }
            state.flight = flight
            return flight
        }
        return try await task.value.get()
    }
}
