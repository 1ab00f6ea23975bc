import Foundation
import ServiceLifecycle
import Synchronization

/// A faithful simulator of the OCPP CSMS REST + WebSocket API (`shared/apis/ocpp-csms-rest.md`)
/// on 127.0.0.1: token login, charge points with connectors (one offline by default), charging
/// sessions with simulated physics, `/csc` OCPP 1.6 commands answered the way the real server
/// does, the `/ws` event interface, the shared ``FaultPlan`` and the real-server quirks of
/// `FIELD-NOTES.md` (``realServerQuirks``).
///
/// ```swift
/// let simulator = OCPPCSMSSimulator()
/// let port = try await simulator.start()
/// // … point the bridge at http://127.0.0.1:\(port) (user bridge@example.com / bridge-password) …
/// simulator.tick()                              // advance the sessions one step, push events
/// simulator.setOnline("CP003", true)
/// simulator.faults.enable(.rejectCommands, times: 1)
/// await simulator.stop()
/// ```
///
/// Deterministic: sessions advance only on ``tick()`` (called by a timer when
/// ``Configuration/tickInterval`` is set), from a seeded random. It is also a `Service`: run it in a
/// `ServiceGroup` (demo mode) and it stops on graceful shutdown.
public final class OCPPCSMSSimulator: Service, Sendable {
    /// How this simulator behaves.
    public var configuration: Configuration { device.configuration }
    /// Faults and quirks, switchable at run time.
    public var faults: FaultPlan { device.faults }
    /// Every request received (the `Authorization` value redacted).
    public var requests: RequestLog { device.requests }

    private let device: OCPPCSMSDevice
    private let server = Mutex<RunningSimulator?>(nil)

    /// Creates a stopped simulator.
    public init(configuration: Configuration = Configuration()) {
        self.device = OCPPCSMSDevice(configuration: configuration)
    }

    /// The charge points, the transactions and the simulated clock now.
    public var state: OCPPCSMSState { device.state }

    /// The bound port once started (kept while stopped, so a restart reuses it).
    public var port: Int? { server.withLock { $0?.port } }

    /// `http://127.0.0.1:<port>` once started (the server root; the API is under `/api/v1`).
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

    /// Stops gracefully: open WebSockets end, then the server closes. The port stays reserved for ``start()``.
    public func stop() async {
        device.hub.shutdown()
        await server.withLock { $0 }?.stop()
    }

    /// "Down": drops the server at once (connections break, new ones are refused) until ``start()`` or ``restart()``.
    public func stopAbruptly() async {
        device.hub.shutdown()
        await server.withLock { $0 }?.stopAbruptly()
    }

    /// Stops gracefully and starts again on the same port. Tokens, charge points and sessions are kept
    /// (the CSMS's database survives its restart).
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

    // MARK: Test hooks

    /// Advances the simulation one ``Configuration/simulatedStep``: pending remote starts begin,
    /// sessions draw power and advance their energy registers, full cars unplug, reset charge
    /// points come back. Pushes the resulting events and meter values to WebSocket listeners.
    public func tick() {
        device.tick()
    }

    /// Runs ``tick()`` `count` times.
    public func tick(times count: Int) {
        for _ in 0..<max(0, count) { device.tick() }
    }

    /// Connects a charge point to the CSMS or disconnects it (`is_online`).
    /// - Throws: ``OCPPCSMSSimulatorError`` for an unknown charge point.
    public func setOnline(_ chargePointID: String, _ online: Bool) throws(OCPPCSMSSimulatorError) {
        try updateChargePoint(chargePointID) { store, position in store.setOnline(position, online) }
    }

    /// Makes a charge point stop answering `/csc` commands (they fail after ``Configuration/commandTimeout``), or answer again.
    /// - Throws: ``OCPPCSMSSimulatorError`` for an unknown charge point.
    public func setUnresponsive(_ chargePointID: String, _ unresponsive: Bool) throws(OCPPCSMSSimulatorError) {
        try updateChargePoint(chargePointID) { store, position in store.chargePoints[position].isUnresponsive = unresponsive }
    }

    /// A car plugs in and an RFID card starts a session on an idle connector right away.
    /// - Parameter stateOfCharge: The car's battery level in %, random (15–60) when `nil`.
    /// - Returns: The transaction id.
    /// - Throws: ``OCPPCSMSSimulatorError`` for an unknown or busy connector, or an offline charge point.
    @discardableResult
    public func plugIn(chargePointID: String, connectorID: Int, idTag: String, stateOfCharge: Double? = nil) throws(OCPPCSMSSimulatorError) -> Int {
        let result: Result<Int, OCPPCSMSSimulatorError> = device.withStore { store in
            guard let position = store.index[chargePointID],
                let slot = store.chargePoints[position].connectors.firstIndex(where: { $0.id == connectorID })
            else { return .failure(OCPPCSMSSimulatorError(description: "no connector \(connectorID) on \(chargePointID)")) }
            let point = store.chargePoints[position]
            guard point.isOnline else { return .failure(OCPPCSMSSimulatorError(description: "\(chargePointID) is offline")) }
            let connector = point.connectors[slot]
            guard connector.transactionID == nil, connector.pendingStart == nil, !connector.isInoperative else {
                return .failure(OCPPCSMSSimulatorError(description: "connector \(connectorID) of \(chargePointID) is busy"))
            }
            return .success(store.begin(position, slot, idTag: idTag, stateOfCharge: stateOfCharge))
        }
        return try result.get()
    }

    /// Sets a connector's OCPP status and error code as a `StatusNotification` would (e.g. `Faulted`, `GroundFailure`).
    /// - Throws: ``OCPPCSMSSimulatorError`` for an unknown connector or a status OCPP 1.6 does not have.
    public func setConnectorStatus(
        chargePointID: String, connectorID: Int, status: String, errorCode: String = "NoError"
    ) throws(OCPPCSMSSimulatorError) {
        guard OCPPCSMSStore.connectorStatuses.contains(status) else {
            throw OCPPCSMSSimulatorError(description: "'\(status)' is not an OCPP 1.6 connector status")
        }
        try withChargePoint(chargePointID) { store, position in
            guard let slot = store.chargePoints[position].connectors.firstIndex(where: { $0.id == connectorID }) else { return false }
            var connector = store.chargePoints[position].connectors[slot]
            connector.errorCode = errorCode
            store.setStatus(&connector, status, point: position)
            store.chargePoints[position].connectors[slot] = connector
            store.revision += 1
            return true
        }
    }

    /// Logs the account in elsewhere, as a person sharing the account would: its token is replaced,
    /// so the token a client holds now gets 401. Returns the new token.
    /// - Throws: ``OCPPCSMSSimulatorError`` for an unknown account.
    @discardableResult
    public func rotateToken(username: String) throws(OCPPCSMSSimulatorError) -> String {
        let token: String? = device.withStore { store in
            guard let user = store.users.first(where: { $0.username == username }) else { return nil }
            return store.authenticate(username: user.username, password: user.password).flatMap { store.tokens[$0.username] }
        }
        guard let token else { throw OCPPCSMSSimulatorError(description: "no account \(username)") }
        return token
    }

    /// The account's current token, `nil` before its first login.
    public func token(username: String) -> String? {
        device.store.withLock { $0.tokens[username] }
    }

    private func updateChargePoint(_ id: String, _ body: (inout OCPPCSMSStore, Int) -> Void) throws(OCPPCSMSSimulatorError) {
        try withChargePoint(id) { store, position in
            body(&store, position)
            return true
        }
    }

    private func withChargePoint(_ id: String, _ body: (inout OCPPCSMSStore, Int) -> Bool) throws(OCPPCSMSSimulatorError) {
        let found: Bool? = device.withStore { store in
            guard let position = store.index[id] else { return nil }
            return body(&store, position)
        }
        guard let found else { throw OCPPCSMSSimulatorError(description: "no charge point \(id)") }
        guard found else { throw OCPPCSMSSimulatorError(description: "no such connector on \(id)") }
    }
}

/// A test hook was asked for something the simulated CSMS does not have.
public struct OCPPCSMSSimulatorError: Error, Sendable, CustomStringConvertible {
    /// What was wrong.
    public let description: String
}
