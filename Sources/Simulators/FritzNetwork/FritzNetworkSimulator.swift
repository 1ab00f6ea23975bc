import Foundation
import ServiceLifecycle
import Synchronization

/// A faithful simulator of the Fritz!Box network API (`shared/apis/fritzbox-network.md`) on 127.0.0.1:
/// health, JWT form login, API keys, the device/bandwidth/WAN documents (provider namespace and the
/// deprecated paths), both history families with RFC 9457 validation errors, a per-identity rate limit
/// of 10 requests a minute, a network whose mobile clients come and go, a server cache refreshed from
/// the router every 15–30 s, the shared ``FaultPlan`` and the real-server quirks of `FIELD-NOTES.md`.
///
/// Time is simulated: ``Configuration/TimeMode/manual`` moves only when a test calls ``advance(by:)``
/// or ``tick()`` (the rate limit, token expiry and cache refreshes all use it), so no test sleeps for
/// data; ``Configuration/TimeMode/realTime(scale:)`` follows the real clock (demo, accelerated runs).
///
/// ```swift
/// let simulator = FritzNetworkSimulator(configuration: .init(timeMode: .manual))
/// let port = try await simulator.start()
/// simulator.setClient("AA:BB:CC:DD:EE:01", online: false)
/// simulator.tick()                       // one step, and the server's cache reads the router now
/// simulator.setRouterReachable(false)    // devices 503, WAN and bandwidth stale
/// await simulator.stop()
/// ```
public final class FritzNetworkSimulator: Service, Sendable {
    /// How this simulator behaves.
    public var configuration: Configuration { device.configuration }
    /// Faults and quirks, switchable at run time.
    public var faults: FaultPlan { device.faults }
    /// Every request received (shared ``RequestLog``: method, path, query, redacted headers, body).
    public var requests: RequestLog { device.requests }

    private let device: FritzNetworkDevice
    private let server = Mutex<RunningSimulator?>(nil)

    /// Creates a stopped simulator.
    public init(configuration: Configuration = Configuration()) {
        self.device = FritzNetworkDevice(configuration: configuration)
    }

    /// The bound port once started (kept while stopped, so a restart reuses it).
    public var port: Int? { server.withLock { $0?.port } }

    /// `http://127.0.0.1:<port>` once started.
    public var baseURL: String? { server.withLock { $0?.baseURL } }

    /// Starts serving (again, on the same port, after ``stop()``) and returns the port.
    /// - Throws: The bind error when the port is taken.
    @discardableResult
    public func start() async throws -> Int {
        if let running = server.withLock({ $0 }) {
            if !running.isRunning { try await running.restart() }
            return running.port
        }
        let device = device
        let running = try await SimulatorServer.start(port: device.configuration.port, logger: device.configuration.logger) { binding in
            device.makeApplication(binding)
        }
        server.withLock { $0 = running }
        return running.port
    }

    /// Stops gracefully; the port stays reserved for ``start()``.
    public func stop() async {
        await server.withLock { $0 }?.stop()
    }

    /// "Down": drops the server at once (connections break, new ones are refused) until ``start()`` or ``restart()``.
    public func stopAbruptly() async {
        await server.withLock { $0 }?.stopAbruptly()
    }

    /// Stops gracefully and starts again on the same port (the API server restarts; the router, its
    /// cache, issued tokens and API keys are kept).
    @discardableResult
    public func restart() async throws -> Int {
        await stop()
        return try await start()
    }

    /// Runs as a `Service`: starts, waits for graceful shutdown, stops.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }

    // MARK: Time

    /// Simulated now.
    public var now: Date {
        device.synchronise()
        return device.store.withLock { $0.now }
    }

    /// Moves simulated time on by `duration`: physics steps every ``Configuration/tickInterval``, cache
    /// refreshes every 15–30 s, token expiry and the rate-limit window all follow.
    public func advance(by duration: Duration) {
        device.advance(by: duration)
    }

    /// One physics step (``Configuration/tickInterval``), then the server reads the router at once, so
    /// the API shows the new state now.
    public func tick() {
        device.advance(by: configuration.tickInterval)
        refreshNow()
    }

    /// The server reads the router now (when reachable) instead of at its next refresh.
    public func refreshNow() {
        device.synchronise()
        device.store.withLock { $0.refresh() }
    }

    // MARK: Test hooks

    /// What the router and the server hold right now.
    public var state: FritzNetworkState {
        device.synchronise()
        return device.store.withLock { store in
            FritzNetworkState(
                now: store.now, clients: store.clients, wan: store.wan, cache: store.cache,
                routerReachable: store.routerReachable, refreshes: store.refreshes, reboots: store.reboots,
                logins: store.tokenCount, activeAPIKeys: store.apiKeys.filter(\.isActive).count)
        }
    }

    /// Sets a client (by MAC, IP or name) online or offline; it then stays so until set again.
    /// The API shows it after the next refresh (``tick()`` or ``refreshNow()``).
    /// - Returns: whether such a client exists.
    @discardableResult
    public func setClient(_ id: String, online: Bool) -> Bool {
        device.store.withLock { store in
            guard let index = store.clients.firstIndex(where: { $0.mac == id || $0.ip == id || $0.name == id }) else { return false }
            store.clients[index].isOnline = online
            store.pinned.insert(index)
            return true
        }
    }

    /// Adds clients to the network (e.g. ``FritzNetworkClient/extra(_:)`` for paging).
    public func addClients(_ clients: [FritzNetworkClient]) {
        device.store.withLock { $0.clients += clients }
    }

    /// Removes a client (by MAC, IP or name) from the router's host table.
    @discardableResult
    public func removeClient(_ id: String) -> Bool {
        device.store.withLock { store in
            guard let index = store.clients.firstIndex(where: { $0.mac == id || $0.ip == id || $0.name == id }) else { return false }
            store.clients.remove(at: index)
            store.pinned = Set(store.pinned.compactMap { $0 == index ? nil : ($0 > index ? $0 - 1 : $0) })
            return true
        }
    }

    /// Router reachable or not: unreachable, the server keeps its cache (WAN and bandwidth answer it
    /// with `is_stale: true`), devices answer 503 and health says `degraded`.
    public func setRouterReachable(_ reachable: Bool) {
        device.store.withLock { $0.routerReachable = reachable }
    }

    /// Reboots the router now: byte counters and WAN uptime to 0, clients offline until the next step.
    public func rebootRouter() {
        device.store.withLock { $0.rebootRouter() }
    }

    /// Brings the internet connection down or up (uptime restarts at 0 on reconnect).
    public func setWANConnected(_ connected: Bool) {
        device.store.withLock { $0.setConnected(connected) }
    }

    /// The next `times` requests get 429, whatever the window holds.
    public func forceRateLimit(times: Int = 1) {
        device.store.withLock { $0.forcedRateLimits += max(0, times) }
    }

    /// Every JWT issued so far expires now (the next request with one gets 401).
    public func expireTokens() {
        device.store.withLock { $0.tokens.removeAll() }
    }

    /// Revokes every API key (requests with one get 401).
    public func revokeAPIKeys() {
        device.store.withLock { store in
            for index in store.apiKeys.indices { store.apiKeys[index].isActive = false }
        }
    }

    // MARK: Request records

    /// Every request with its simulated and real arrival time, identity and status, oldest first.
    public var apiRequests: [FritzNetworkRequestRecord] {
        device.records.withLock { $0 }
    }

    /// The most requests in any rolling `window` (simulated time, or real time with `realTime`),
    /// optionally only those matching `include`.
    public func maxRequests(
        inAnyWindow window: Duration = .seconds(60),
        realTime: Bool = false,
        where include: (FritzNetworkRequestRecord) -> Bool = { _ in true }
    ) -> Int {
        let records = apiRequests.filter(include)
        let times: [Double] = records.map { record in
            realTime ? (record.received - device.origin).seconds : record.at.timeIntervalSince1970
        }.sorted()
        let span = window.seconds
        var best = 0, start = 0
        for end in times.indices {
            while times[end] - times[start] >= span { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }
}

/// What a ``FritzNetworkSimulator`` holds right now, for tests to compare with what a bridge published.
public struct FritzNetworkState: Sendable {
    /// Simulated now.
    public var now: Date
    /// The router's clients as they are (the API shows the cache: see ``cache``).
    public var clients: [FritzNetworkClient]
    /// The router's WAN side as it is.
    public var wan: FritzNetworkWAN
    /// What the server last read from the router.
    public var cache: FritzNetworkSnapshot?
    /// Whether the server can reach the router.
    public var routerReachable: Bool
    /// Successful reads of the router so far.
    public var refreshes: Int
    /// Router reboots so far.
    public var reboots: Int
    /// Successful logins so far.
    public var logins: Int
    /// API keys not revoked.
    public var activeAPIKeys: Int
}
