import Synchronization

/// The gateway's open WebSockets and the simulated browser tabs, with the ESP32's socket limit:
/// when a new socket (or tab) exceeds it, the least recently used WebSocket is closed.
///
/// "Used" means opened or sent something by the client (a ping, a message); the gateway's own
/// pushes do not count, so a client that only listens ages and is evicted first.
final class TinyBMSSockets: Sendable {
    private struct Entry {
        let path: String
        var lastUsed: UInt64
        let subscription: StreamHub.Subscription
    }

    private struct State {
        var sockets: [Int: Entry] = [:]
        var tabs = 0
        var nextID = 0
        var useCounter: UInt64 = 0
        var evictions = 0
        var evicted: Set<Int> = []
        var jsonPings = 0
        var opened: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// Registers a new WebSocket; with `limit`, evicts the least recently used others first.
    func open(path: String, subscription: StreamHub.Subscription, limit: Int?) -> Int {
        let (id, evicting) = state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.useCounter += 1
            state.opened[path, default: 0] += 1
            state.sockets[id] = Entry(path: path, lastUsed: state.useCounter, subscription: subscription)
            return (id, Self.overLimit(&state, limit: limit, keeping: id))
        }
        for subscription in evicting { subscription.close() }
        return id
    }

    /// The client of socket `id` sent something.
    func touch(_ id: Int) {
        state.withLock { state in
            state.useCounter += 1
            state.sockets[id]?.lastUsed = state.useCounter
        }
    }

    /// Socket `id` closed; returns whether it was evicted by the limit.
    @discardableResult
    func close(_ id: Int) -> Bool {
        state.withLock { state in
            state.sockets[id] = nil
            return state.evicted.remove(id) != nil
        }
    }

    /// Whether socket `id` is being closed by the socket limit.
    func isEvicted(_ id: Int) -> Bool {
        state.withLock { $0.evicted.contains(id) }
    }

    /// Opens `count` browser tabs (one socket each), evicting with `limit`; returns how many WebSockets were closed.
    @discardableResult
    func openTabs(_ count: Int, limit: Int?) -> Int {
        let evicting = state.withLock { state in
            state.tabs += max(0, count)
            return Self.overLimit(&state, limit: limit, keeping: nil)
        }
        for subscription in evicting { subscription.close() }
        return evicting.count
    }

    /// Closes every browser tab.
    func closeTabs() {
        state.withLock { $0.tabs = 0 }
    }

    /// Closes the least recently used WebSocket now, whatever the limit; returns its path.
    @discardableResult
    func evictLeastRecentlyUsed() -> String? {
        let victim: (String, StreamHub.Subscription)? = state.withLock { state in
            guard let (id, entry) = state.sockets.filter({ !state.evicted.contains($0.key) }).min(by: { $0.value.lastUsed < $1.value.lastUsed }) else {
                return nil
            }
            state.evicted.insert(id)
            state.evictions += 1
            return (entry.path, entry.subscription)
        }
        victim?.1.close()
        return victim?.0
    }

    /// Open WebSockets by path (evicted ones that are still closing excluded).
    var openByPath: [String: Int] {
        state.withLock { state in
            state.sockets.filter { !state.evicted.contains($0.key) }.reduce(into: [:]) { $0[$1.value.path, default: 0] += 1 }
        }
    }

    /// A client sent a JSON `{"type":"ping"}`.
    func recordJSONPing() {
        state.withLock { $0.jsonPings += 1 }
    }

    var jsonPings: Int { state.withLock { $0.jsonPings } }
    /// WebSockets opened so far, by path.
    var openedByPath: [String: Int] { state.withLock { $0.opened } }
    var tabs: Int { state.withLock { $0.tabs } }
    var evictions: Int { state.withLock { $0.evictions } }

    private static func overLimit(_ state: inout State, limit: Int?, keeping: Int?) -> [StreamHub.Subscription] {
        guard let limit else { return [] }
        var evicting: [StreamHub.Subscription] = []
        while true {
            let live = state.sockets.filter { !state.evicted.contains($0.key) }
            guard live.count + state.tabs > limit else { break }
            let candidates = live.filter { $0.key != keeping }
            guard let (id, entry) = candidates.min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { break }
            state.evicted.insert(id)
            state.evictions += 1
            evicting.append(entry.subscription)
        }
        return evicting
    }
}
