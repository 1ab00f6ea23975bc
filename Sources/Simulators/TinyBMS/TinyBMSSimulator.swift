import BridgeCore
import ServiceLifecycle
import Synchronization

/// A faithful simulator of the TinyBMS web gateway (`shared/apis/tinybms-gw.md`) on 127.0.0.1: every
/// REST path and WebSocket of the document, a 16S LiFePO4 pack that behaves physically, threshold
/// alerts with debounce, BMS and gateway restarts, optional HTTP Basic auth with a CSRF token, the
/// shared ``FaultPlan`` and the deployed-firmware quirks of `FIELD-NOTES.md`.
///
/// Deterministic: the physics advance by ``telemetryInterval`` of simulated time per tick,
/// from a seeded random. Tests use `autoTickDelay: nil` and call ``tick(_:)``; the demo ticks by itself.
///
/// ```swift
/// let simulator = TinyBMSSimulator(configuration: .init(autoTickDelay: nil))
/// let port = try await simulator.start()
/// simulator.tick()                                  // one telemetry frame on /ws/telemetry
/// simulator.hold(temperature: 50)                   // over the 45 °C threshold …
/// simulator.tick(61)                                // … for longer than the 60 s debounce: an alert
/// simulator.openBrowserTabs(7)                      // with the socket-limit quirk: evicts sockets
/// await simulator.stop()
/// ```
public final class TinyBMSSimulator: Service, Sendable {
    /// How this simulator behaves.
    public var configuration: Configuration { device.configuration }
    /// Faults and quirks, switchable at run time.
    public var faults: FaultPlan { device.faults }
    /// Every request received.
    public var requests: RequestLog { device.requests }

    private let device: TinyBMSDevice
    private let server = Mutex<RunningSimulator?>(nil)
    private let rebootTask = Mutex<Task<Void, Never>?>(nil)
    /// Whether the gateway is down for a restart waiting for ``finishRestart()``.
    private let awaitingBoot = Mutex(false)

    /// Creates a stopped simulator.
    public init(configuration: Configuration = Configuration()) {
        self.device = TinyBMSDevice(configuration: configuration)
        device.onGatewayRestart.withLock {
            $0 = { [weak self] delay in self?.scheduleGatewayReboot(after: delay) }
        }
    }

    /// The bound port once started (kept while stopped, so a restart reuses it).
    public var port: Int? { server.withLock { $0?.port } }

    /// `http://127.0.0.1:<port>` once started.
    public var baseURL: String? { server.withLock { $0?.baseURL } }

    /// What the gateway holds now.
    public var state: TinyBMSState {
        let store = device.store.withLock { $0 }
        return TinyBMSState(store: store, sockets: device.sockets, isRunning: server.withLock { $0?.isRunning ?? false })
    }

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
        rebootTask.withLock { $0 }?.cancel()
        for hub in device.hubs.values { hub.shutdown() }
        await server.withLock { $0 }?.stop()
    }

    /// "Down": drops the server at once (connections break, new ones are refused) until ``start()``.
    public func stopAbruptly() async {
        for hub in device.hubs.values { hub.shutdown() }
        await server.withLock { $0 }?.stopAbruptly()
    }

    /// Stops gracefully and starts again on the same port (a power cycle).
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

    // MARK: Simulation and test hooks

    /// Advances the simulation by `count` ticks (each ``telemetryInterval`` of simulated time):
    /// physics, alerts (with debounce), history, and a telemetry/UART/CAN frame per tick on the sockets.
    /// Works while stopped too (nobody hears it). Returns the last telemetry frame in the shape that went
    /// out, nil while the BMS restarts.
    @discardableResult
    public func tick(_ count: Int = 1) -> JSONValue? {
        var frame: JSONValue?
        for _ in 0..<max(1, count) { frame = device.tick() }
        return frame
    }

    /// Ticks `count` times, `interval` apart on the wall clock (e.g. a 100 Hz burst for a benchmark, on
    /// top of the automatic ticks if any); each tick still advances the simulation by
    /// ``telemetryInterval``. Returns early when the calling task is cancelled.
    public func burst(_ count: Int, every interval: Duration) async {
        let clock = ContinuousClock()
        var next = clock.now
        for _ in 0..<max(0, count) {
            guard !Task.isCancelled else { return }
            device.tick()
            next = next.advanced(by: interval)
            try? await Task.sleep(until: next, clock: clock)
        }
    }

    /// Simulated time per tick, and the telemetry period when ticking by itself: ``Configuration/tickInterval``
    /// until ``setTelemetryInterval(_:)`` changes it.
    public var telemetryInterval: Duration { device.telemetryInterval.withLock { $0 } }

    /// Changes the telemetry rate at run time (e.g. from 1 Hz to a 100 Hz burst and back): from the next
    /// tick on, each tick advances the simulation by `interval`, and the automatic ticker, if any, ticks
    /// every `interval` (from the tick after the one it is waiting for). Not below 1 ms.
    public func setTelemetryInterval(_ interval: Duration) {
        device.telemetryInterval.withLock { $0 = max(interval, .milliseconds(1)) }
    }

    /// Holds the pack current at `amps` (positive charges) from the next tick; nil follows the load profile again.
    public func hold(current amps: Double?) {
        device.store.withLock { $0.pack.heldCurrent = amps }
    }

    /// Holds the pack temperature at `celsius` from the next tick (to cross a threshold); nil releases it.
    public func hold(temperature celsius: Double?) {
        device.store.withLock { $0.pack.heldTemperature = celsius }
    }

    /// Holds cell `index` (0-based) at `millivolts` from the next tick; nil releases it.
    public func hold(cell index: Int, millivolts: Double?) {
        device.store.withLock { $0.pack.heldCells[index] = millivolts.map { $0 / 1000 } }
    }

    /// Sets the state of charge (percent) at once, e.g. near full to see balancing.
    public func setStateOfCharge(_ percent: Double) {
        device.store.withLock { $0.pack.soc = max(0, min(100, percent)) }
    }

    /// Raises an alert that no threshold raised (type 10 by default) and sends it on `/ws/alerts` and `/ws/events`.
    @discardableResult
    public func raiseAlert(type: Int = 10, severity: Int = 1, message: String = "Alerte de test") -> TinyBMSAlert {
        device.raiseAlert(type: type, severity: severity, message: message)
    }

    /// Sends a system event on `/ws/events` (e.g. `WIFI_DISCONNECTED`).
    public func emitEvent(_ name: String, data: JSONValue = [:]) {
        device.emitEvent(name, data: data)
    }

    /// The gateway's MQTT link goes up or down (`/api/mqtt/status`, `MQTT_CONNECTED`/`MQTT_DISCONNECTED`).
    public func setMQTTConnected(_ connected: Bool, error: String = "") {
        let changed = device.store.withLock { store in
            defer {
                store.mqttConnected = connected
                if !connected {
                    store.mqttErrors += 1
                    store.mqttLastError = error.isEmpty ? "connection lost" : error
                }
            }
            return store.mqttConnected != connected
        }
        if changed { device.emitEvent(connected ? "MQTT_CONNECTED" : "MQTT_DISCONNECTED", data: [:]) }
    }

    /// The CAN bus state (`RUNNING`, `BUS_OFF`, `STOPPED`); frames flow only while `RUNNING`.
    public func setCANState(_ state: String) {
        device.store.withLock { store in
            if state != "RUNNING", store.canState == "RUNNING" {
                store.canErrors += 1
                store.canLastError = state
            }
            store.canState = state
        }
    }

    /// Opens `count` simulated browser tabs holding a socket each; with ``Quirk/tinyBMSSocketLimit`` the
    /// least recently used WebSockets are closed to make room. Returns how many were closed.
    @discardableResult
    public func openBrowserTabs(_ count: Int = 1) -> Int {
        device.sockets.openTabs(count, limit: device.socketLimit)
    }

    /// Closes every simulated browser tab.
    public func closeBrowserTabs() {
        device.sockets.closeTabs()
    }

    /// Closes the least recently used WebSocket now (whatever the limit); returns its path.
    @discardableResult
    public func evictLeastRecentlyUsedSocket() -> String? {
        device.sockets.evictLeastRecentlyUsed()
    }

    /// The CSRF token expires: a new one is issued and the old one gets 403.
    public func expireCSRFToken() {
        device.store.withLock { $0.rotateCSRFToken(seed: device.configuration.seed) }
    }

    /// Ends a BMS restart, or boots a gateway that is down for a restart, now (for durations set to nil).
    public func finishRestart() async throws {
        device.endBMSRestart()
        // A gateway restart that is still going down finishes going down first.
        if device.store.withLock({ $0.gatewayRestartScheduled }) {
            await rebootTask.withLock { $0 }?.value
        }
        let waiting = awaitingBoot.withLock { waiting in
            defer { waiting = false }
            return waiting
        }
        if waiting { try await start() }
    }

    /// After `delay`, the gateway goes down (sockets and connections cut, new ones refused) for
    /// ``Configuration/gatewayRebootDuration`` (or until ``finishRestart()``), then boots.
    private func scheduleGatewayReboot(after delay: Duration) {
        let device = device
        let task = Task { [weak self] in
            // At least a moment, so the answer to the restart request leaves first.
            try? await Task.sleep(for: max(delay, .milliseconds(50)))
            guard let self, !Task.isCancelled else { return }
            // Like the ESP32's restart: sockets close, requests in flight (the restart's own answer)
            // finish, then nothing answers.
            for hub in device.hubs.values { hub.shutdown() }
            await self.server.withLock { $0 }?.stop()
            device.store.withLock { $0.gatewayRebooting = true }
            guard let duration = device.configuration.gatewayRebootDuration else {
                self.awaitingBoot.withLock { $0 = true }
                return
            }
            try? await Task.sleep(for: duration)
            guard !Task.isCancelled else { return }
            _ = try? await self.start()
        }
        rebootTask.withLock { $0 = task }
    }
}

/// What a ``TinyBMSSimulator`` holds right now, for tests to compare with what a bridge published.
public struct TinyBMSState: Sendable {
    /// State of charge, percent.
    public var stateOfCharge: Double
    /// Pack current in A, positive = charging.
    public var current: Double
    /// Pack voltage in V.
    public var packVoltage: Double
    /// Temperature in °C.
    public var temperature: Double
    /// Cell voltages in mV.
    public var cellMillivolts: [Double]
    /// Which cells balance.
    public var balancing: [Bool]
    /// `CHARGING`, `DISCHARGING` or `IDLE`.
    public var status: String
    /// Energy charged and discharged in kWh.
    public var energyChargedKWh: Double
    public var energyDischargedKWh: Double
    /// Active alerts, oldest first.
    public var activeAlerts: [TinyBMSAlert]
    /// Every alert remembered (the history), oldest first.
    public var alerts: [TinyBMSAlert]
    /// The alert thresholds.
    public var alertConfig: TinyBMSAlertConfig
    /// Ticks since creation.
    public var ticks: Int
    /// Telemetry frames produced (not during BMS restarts).
    public var telemetryFrames: Int
    /// Whether BMS data is unavailable (BMS restarting).
    public var bmsRestarting: Bool
    /// Whether the gateway is down for a restart (set once it stopped answering, cleared at boot).
    public var gatewayRebooting: Bool
    /// Whether the server accepts connections.
    public var isRunning: Bool
    /// Gateway boots (server starts).
    public var boots: Int
    /// Targets of the accepted restart requests, in order.
    public var restartRequests: [String]
    /// Open WebSockets by path.
    public var openSockets: [String: Int]
    /// WebSockets opened since creation, by path.
    public var socketsOpened: [String: Int]
    /// Simulated browser tabs.
    public var browserTabs: Int
    /// WebSockets closed by the socket limit (or the eviction hook).
    public var evictions: Int
    /// JSON `{"type":"ping"}` messages received (answered or not).
    public var jsonPingsReceived: Int
    /// The current CSRF token.
    public var csrfToken: String
    /// The `/api/config` and `/api/mqtt/config` settings, as set.
    public var wifiSSID: String
    public var mqttBrokerURI: String
    public var mqttPort: Int
    public var mqttUsername: String
    public var mqttKeepalive: Int
    public var mqttConnected: Bool
    public var canState: String

    init(store: TinyBMSStore, sockets: TinyBMSSockets, isRunning: Bool) {
        let pack = store.pack
        stateOfCharge = pack.soc
        current = pack.current
        packVoltage = pack.packVoltage
        temperature = pack.temperature
        cellMillivolts = pack.cellVoltages.map { ($0 * 1000).rounded() }
        balancing = pack.balancing
        status = pack.status
        energyChargedKWh = pack.chargedWh / 1000
        energyDischargedKWh = pack.dischargedWh / 1000
        activeAlerts = store.alerts.active
        alerts = store.alerts.alerts
        alertConfig = store.alerts.config
        ticks = store.ticks
        telemetryFrames = store.telemetryFrames
        bmsRestarting = store.bmsRestarting
        gatewayRebooting = store.gatewayRebooting
        self.isRunning = isRunning
        boots = store.boots
        restartRequests = store.restartRequests
        openSockets = sockets.openByPath
        socketsOpened = sockets.openedByPath
        browserTabs = sockets.tabs
        evictions = sockets.evictions
        jsonPingsReceived = sockets.jsonPings
        csrfToken = store.csrfToken
        wifiSSID = store.gateway.wifiSSID
        mqttBrokerURI = store.gateway.mqttBrokerURI
        mqttPort = store.gateway.mqttPort
        mqttUsername = store.gateway.mqttUsername
        mqttKeepalive = store.gateway.mqttKeepalive
        mqttConnected = store.mqttConnected
        canState = store.canState
    }
}

extension TinyBMSSimulator: ControllableSimulator {}
