import Foundation
import ServiceLifecycle
import Synchronization

/// A faithful simulator of the FlowerHub portal API (`shared/apis/flowerhub-portal.md`) on
/// 127.0.0.1: cookie login and refresh, the asset owner, asset, uptime, agreement, invoice,
/// consumption, profile and notification paths, ETags with 304, NestJS-style errors, the shared
/// ``FaultPlan`` and the real-portal quirks of `FIELD-NOTES.md`.
///
/// Time is simulated: each tick advances the portal's clock (token expiry, the battery system
/// dropping to `Disconnected` now and then, this month's uptime and consumption growing, a new
/// invoice at each month end). Tests tick by hand and force situations through the hooks:
///
/// ```swift
/// let simulator = FlowerHubSimulator(configuration: .init(tickInterval: nil, startDate: someDate))
/// let port = try await simulator.start()
/// simulator.advance(by: .seconds(3600))          // an hour of physics, now
/// simulator.expireAccessCookies()                // the next request gets 401 → a refresh is due
/// simulator.forceStatus(.disconnected)
/// #expect(simulator.state.refreshes == 1)
/// await simulator.stop()
/// ```
///
/// It is also a `Service`: run it in a `ServiceGroup` (demo mode) and it stops on graceful shutdown.
public final class FlowerHubSimulator: Service, Sendable {
    /// How this simulator behaves.
    public var configuration: Configuration { portal.configuration }
    /// Faults and quirks, switchable at run time. ``Fault/dropStreams`` has nothing to drop: the portal has no stream.
    public var faults: FaultPlan { portal.faults }
    /// Every request received.
    public var requests: RequestLog { portal.requests }

    private let portal: FlowerHubPortal
    private let server = Mutex<RunningSimulator?>(nil)

    /// Creates a stopped simulator.
    public init(configuration: Configuration = Configuration()) {
        self.portal = FlowerHubPortal(configuration: configuration)
    }

    /// What the portal holds now, and what it has counted.
    public var state: FlowerHubState { portal.store.withLock { FlowerHubState($0) } }

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
        let portal = portal
        let running = try await SimulatorServer.start(port: portal.configuration.port, logger: portal.configuration.logger) { binding in
            portal.makeApplication(binding)
        }
        server.withLock { $0 = running }
        return running.port
    }

    /// Stops gracefully. The port stays reserved for ``start()``; sessions survive (the portal's
    /// database does not forget them).
    public func stop() async {
        await server.withLock { $0 }?.stop()
    }

    /// "Down": drops the server at once (connections break, new ones are refused) until ``start()`` or ``restart()``.
    public func stopAbruptly() async {
        await server.withLock { $0 }?.stopAbruptly()
    }

    /// Stops gracefully and starts again on the same port.
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

    // MARK: Simulated time

    /// Advances the simulated clock by one tick (``Configuration/tickInterval``, a minute when `nil`).
    public func tick() {
        portal.tick(by: configuration.tickInterval ?? .seconds(60))
    }

    /// Advances the simulated clock by `duration` now, running the physics minute by minute
    /// (month ends included: the month's uptime and consumption are closed and invoiced).
    public func advance(by duration: Duration) {
        portal.tick(by: duration)
    }

    // MARK: Test hooks

    /// Every `Authentication` cookie issued so far is expired: the next authenticated request gets 401.
    public func expireAccessCookies() {
        portal.store.withLock { store in
            for token in store.accessTokens.keys { store.accessTokens[token] = .distantPast }
        }
    }

    /// Every `Refresh` cookie issued so far is expired: `/auth/refresh-token` answers 401 (a new login is needed).
    public func expireRefreshCookies() {
        portal.store.withLock { store in
            for token in store.refreshTokens.keys { store.refreshTokens[token] = .distantPast }
        }
    }

    /// Both: the session is over, only a login helps.
    public func expireSession() {
        expireAccessCookies()
        expireRefreshCookies()
    }

    /// Holds the battery system's `flowerHubStatus` at `status` (no random drops) until ``releaseStatus()``.
    public func forceStatus(_ status: BatteryStatus) {
        portal.store.withLock { $0.statusOverride = (status.status, status.message) }
    }

    /// Lets the battery system's status follow the simulation again (it keeps the forced
    /// connectivity until the physics changes it).
    public func releaseStatus() {
        portal.store.withLock { store in
            if let forced = store.statusOverride { store.connected = forced.status == "Connected" }
            store.statusOverride = nil
        }
    }

    /// The next request is answered 429 with `Retry-After: <duration>`, and so is every request until it passed.
    public func rateLimit(for duration: Duration) {
        portal.store.withLock { $0.forcedRateLimit = duration }
    }

    /// A `flowerHubStatus` (`status` and `message`) the portal can report.
    public struct BatteryStatus: Hashable, Sendable {
        /// `"Connected"`, `"Disconnected"` or another value the portal may send.
        public var status: String
        /// The human-readable message next to it.
        public var message: String

        /// Creates a status.
        public init(status: String, message: String) {
            self.status = status
            self.message = message
        }

        /// The system is online and working.
        public static let connected = BatteryStatus(status: "Connected", message: FlowerHubStore.statusMessages.connected)
        /// The system is offline.
        public static let disconnected = BatteryStatus(status: "Disconnected", message: FlowerHubStore.statusMessages.disconnected)
    }
}
