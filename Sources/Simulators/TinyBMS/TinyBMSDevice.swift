import BridgeCore
import Hummingbird
import HummingbirdWebSocket
import ServiceLifecycle
import Synchronization

/// The simulated gateway behind a ``TinyBMSSimulator``: its pack, alerts, settings, streams and HTTP
/// application. It knows nothing of the server's lifecycle; restarts of the gateway go through
/// ``onGatewayRestart``, which the simulator sets.
final class TinyBMSDevice: Sendable {
    static let telemetryPath = "/ws/telemetry"
    static let eventsPath = "/ws/events"
    static let alertsPath = "/ws/alerts"
    static let uartPath = "/ws/uart"
    static let canPath = "/ws/can"
    static let socketPaths = [telemetryPath, eventsPath, alertsPath, uartPath, canPath]

    let configuration: TinyBMSSimulator.Configuration
    let faults: FaultPlan
    let requests: RequestLog
    let hubs: [String: StreamHub]
    let sockets = TinyBMSSockets()
    let store: Mutex<TinyBMSStore>
    /// Called (off the request) to take the gateway down after `delay`, then up again.
    let onGatewayRestart = Mutex<(@Sendable (Duration) -> Void)?>(nil)
    /// Ends a BMS restart after ``TinyBMSSimulator/Configuration/bmsRestartDuration``.
    let bmsRestartTask = Mutex<Task<Void, Never>?>(nil)
    /// Simulated time per tick and the automatic telemetry period; starts at
    /// ``TinyBMSSimulator/Configuration/tickInterval`` and changes through ``TinyBMSSimulator/setTelemetryInterval(_:)``.
    let telemetryInterval: Mutex<Duration>

    init(configuration: TinyBMSSimulator.Configuration) {
        self.configuration = configuration
        let faults = FaultPlan(quirks: configuration.quirks)
        self.faults = faults
        self.requests = RequestLog()
        self.hubs = Dictionary(uniqueKeysWithValues: Self.socketPaths.map { ($0, StreamHub(faults: faults)) })
        self.telemetryInterval = Mutex(configuration.tickInterval)
        var store = TinyBMSStore(seed: configuration.seed)
        store.lastFrame = Self.documentFrame(store.pack, now: configuration.epochMilliseconds)
        store.lastSIFrame = Self.siFrame(store.pack, uptime: 0)
        self.store = Mutex(store)
    }

    func hub(_ path: String) -> StreamHub? { hubs[path] }

    /// Seconds of simulated time per tick.
    var tickSeconds: Double {
        let components = telemetryInterval.withLock { $0 }.components
        return Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whether the socket limit applies now.
    var socketLimit: Int? {
        faults.isEnabled(.tinyBMSSocketLimit) ? configuration.socketLimit : nil
    }

    // MARK: Ticks

    /// Advances the simulation by one tick and sends what the gateway sends on it; returns the telemetry
    /// frame in the shape that went out (nil while the BMS restarts).
    @discardableResult
    func tick() -> JSONValue? {
        let dt = tickSeconds
        let stepMs = Int64((dt * 1000).rounded())
        let epoch = configuration.epochMilliseconds
        let wrapped = faults.isEnabled(.tinyBMSWrappedTelemetry)
        let (messages, frame): ([(String, StreamMessage)], JSONValue?) = store.withLock { store in
            store.simulatedMs += stepMs
            store.ticks += 1
            store.pack.step(seconds: dt)
            let now = epoch + store.simulatedMs
            let raised = store.alerts.evaluate(pack: store.pack, dt: dt, now: now)
            let pack = store.pack
            store.appendSample([
                "timestamp": .number(Double(now)), "timestamp_iso": .null,
                "pack_voltage": .number(Self.round(pack.packVoltage, 2)), "pack_current": .number(Self.round(pack.current, 2)),
                "state_of_charge": .number(Self.round(pack.soc, 1)), "state_of_health": .number(Self.round(pack.soh, 1)),
                "average_temperature": .number(Self.round(pack.temperature, 1)),
            ])
            if store.mqttConnected { store.mqttSent += 2 }
            var messages: [(String, StreamMessage)] = []
            var frame: JSONValue?
            if !store.bmsRestarting {
                store.telemetryFrames += 1
                store.lastFrame = Self.documentFrame(pack, now: now)
                store.lastSIFrame = Self.siFrame(pack, uptime: store.uptimeMs)
                frame = wrapped ? store.lastSIFrame : store.lastFrame
                if let frame {
                    messages.append((Self.telemetryPath, StreamMessage(event: wrapped ? "battery" : "battery_data", data: frame.jsonString)))
                }
                messages.append((Self.uartPath, StreamMessage(event: "uart_frame", data: Self.uartFrame(pack, now: now).jsonString)))
                if store.canState == "RUNNING" {
                    store.canSent += 2
                    store.canReceived += 1
                    for canFrame in Self.canFrames(pack, now: now) {
                        messages.append((Self.canPath, StreamMessage(event: "can_frame", data: canFrame.jsonString)))
                    }
                }
                if pack.status != store.lastStatus {
                    let from = store.lastStatus
                    store.lastStatus = pack.status
                    let event = Self.event("BATTERY_STATUS_CHANGE", now: now, data: ["from": .string(from), "to": .string(pack.status)])
                    messages.append((Self.eventsPath, event))
                }
            }
            for alert in raised {
                messages.append((Self.alertsPath, StreamMessage(event: "alert", data: JSONValue.object(["type": "alert", "alert": alert.json]).jsonString)))
                let data: JSONValue = ["alert_id": .number(Double(alert.alertId)), "type": .number(Double(alert.type)), "severity": .number(Double(alert.severity))]
                messages.append((Self.eventsPath, Self.event("ALERT_TRIGGERED", now: now, data: data)))
            }
            store.eventPublishes += messages.count
            return (messages, frame)
        }
        for (path, message) in messages { hubs[path]?.broadcast(message) }
        return frame
    }

    /// Sends an event on `/ws/events` (test hook and internal use).
    func emitEvent(_ name: String, data: JSONValue) {
        let now = store.withLock { store in
            store.eventPublishes += 1
            return configuration.epochMilliseconds + store.simulatedMs
        }
        hubs[Self.eventsPath]?.broadcast(Self.event(name, now: now, data: data))
    }

    /// Raises an alert without a threshold (test hook) and sends it like a threshold alert.
    func raiseAlert(type: Int, severity: Int, message: String) -> TinyBMSAlert {
        let (alert, now) = store.withLock { store in
            let now = configuration.epochMilliseconds + store.simulatedMs
            store.eventPublishes += 2
            return (store.alerts.raise(type: type, severity: severity, message: message, now: now), now)
        }
        hubs[Self.alertsPath]?.broadcast(StreamMessage(event: "alert", data: JSONValue.object(["type": "alert", "alert": alert.json]).jsonString))
        let data: JSONValue = ["alert_id": .number(Double(alert.alertId)), "type": .number(Double(alert.type)), "severity": .number(Double(alert.severity))]
        hubs[Self.eventsPath]?.broadcast(Self.event("ALERT_TRIGGERED", now: now, data: data))
        return alert
    }

    /// Sends the active alerts as `{"type":"alerts"}` (after acknowledgements and history changes).
    func broadcastActiveAlerts() {
        hubs[Self.alertsPath]?.broadcast(StreamMessage(event: "alerts", data: activeAlertsMessage().jsonString))
    }

    func activeAlertsMessage() -> JSONValue {
        let active = store.withLock { $0.alerts.active }
        return ["type": "alerts", "alerts": .array(active.map(\.json))]
    }

    // MARK: Restarts

    /// Starts a BMS restart: telemetry stops and BMS data answers 503 until it ends.
    func beginBMSRestart() {
        store.withLock { $0.bmsRestarting = true }
        hubs[Self.telemetryPath]?.closeAll()
        hubs[Self.uartPath]?.closeAll()
        if let duration = configuration.bmsRestartDuration {
            let task = Task { [weak self] in
                try? await Task.sleep(for: duration)
                guard !Task.isCancelled else { return }
                self?.endBMSRestart()
            }
            bmsRestartTask.withLock { $0 = task }
        }
    }

    /// Ends a BMS restart; returns whether one was in progress.
    @discardableResult
    func endBMSRestart() -> Bool {
        bmsRestartTask.withLock { $0 = nil }
        return store.withLock { store in
            defer { store.bmsRestarting = false }
            return store.bmsRestarting
        }
    }

    // MARK: Application

    /// Builds the application for one run of the server; each run is a gateway boot.
    func makeApplication(_ binding: SimulatorServer.Binding) -> any Service {
        store.withLock { $0.boot() }
        for hub in hubs.values { hub.reopen() }

        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: FaultMiddleware(faults: faults, requests: requests, bearerToken: nil, recordsUpgradeRequests: false))
        router.add(middleware: TinyBMSAuthMiddleware(device: self))
        addRoutes(to: router)

        let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
        webSocketRouter.add(middleware: FaultMiddleware(faults: faults, requests: requests, bearerToken: nil))
        webSocketRouter.add(middleware: TinyBMSAuthMiddleware(device: self))
        addWebSocketRoutes(to: webSocketRouter)

        var services: [any Service] = []
        if let delay = configuration.autoTickDelay {
            let period = configuration.tickInterval
            services.append(
                TelegramTicker(delay: delay, interval: { [weak self] in self?.telemetryInterval.withLock { $0 } ?? period }) {
                    [weak self] in _ = self?.tick()
                })
        }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: webSocketRouter,
                configuration: .init(
                    http1: .init(additionalChannelHandlers: [binding.connections.handler()]),
                    ws: .init(closeTimeout: .seconds(1)))
            ),
            configuration: binding.configuration,
            services: services,
            onServerRunning: binding.onServerRunning,
            logger: binding.logger
        )
    }

    // MARK: Documents

    static func round(_ value: Double, _ places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }

    static func event(_ name: String, now: Int64, data: JSONValue) -> StreamMessage {
        let message: JSONValue = ["type": "system_event", "event": .string(name), "timestamp_ms": .number(Double(now)), "data": data]
        return StreamMessage(event: "system_event", data: message.jsonString)
    }

    /// The document's `/ws/telemetry` message (`battery_data`, mV/mA).
    static func documentFrame(_ pack: TinyBMSPack, now: Int64) -> JSONValue {
        let protection = pack.protection
        return [
            "type": "battery_data", "timestamp_ms": .number(Double(now)),
            "voltage_mv": .number((pack.packVoltage * 1000).rounded()), "current_ma": .number((pack.current * 1000).rounded()),
            "soc_percent": .number(round(pack.soc, 1)), "soh_percent": .number(round(pack.soh, 1)),
            "temperature_c": .number(round(pack.temperature, 1)),
            "cells": .array(pack.cellVoltages.enumerated().map { index, volts in
                ["index": .number(Double(index)), "voltage_mv": .number((volts * 1000).rounded()), "balancing": .bool(pack.balancing[index])]
            }),
            "status": .string(pack.status),
            "protection": [
                "ov": .bool(protection.ov), "uv": .bool(protection.uv), "oc_charge": .bool(protection.ocCharge),
                "oc_discharge": .bool(protection.ocDischarge), "temp_high": .bool(protection.tempHigh), "temp_low": .bool(protection.tempLow),
            ],
        ]
    }

    /// The deployed firmware's telemetry object (`type: battery`, SI units, `timestamp_ms` since boot), unwrapped.
    static func siFrame(_ pack: TinyBMSPack, uptime: Int64) -> JSONValue {
        let cellsMv = pack.cellVoltages.map { ($0 * 1000).rounded() }
        return [
            "type": "battery", "timestamp_ms": .number(Double(uptime)),
            "pack_voltage_v": .number(round(pack.packVoltage, 3)), "pack_current_a": .number(round(pack.current, 2)),
            "power_w": .number(round(pack.power, 1)),
            "state_of_charge_pct": .number(round(pack.soc, 1)), "state_of_health_pct": .number(round(pack.soh, 1)),
            "average_temperature_c": .number(round(pack.temperature, 1)),
            "min_temperature_c": .number(round(pack.temperature - 0.4, 1)), "max_temperature_c": .number(round(pack.temperature + 0.4, 1)),
            "cell_voltage_mv": .array(cellsMv.map { .number($0) }),
            "cell_balancing": .array(pack.balancing.map { .number($0 ? 1 : 0) }),
            "min_cell_mv": .number(cellsMv.min() ?? 0), "max_cell_mv": .number(cellsMv.max() ?? 0),
            "alarm_bits": .number(Double(pack.protection.bits)), "warning_bits": .number(Double(pack.warningBits)),
            "energy_charged_kwh": .number(round(pack.chargedWh / 1000, 3)),
            "energy_discharged_kwh": .number(round(pack.dischargedWh / 1000, 3)),
            "cycle_count": .number(Double(pack.cycleCount)),
            "status": .string(pack.status),
        ]
    }

    static func uartFrame(_ pack: TinyBMSPack, now: Int64) -> JSONValue {
        let cellsMv = pack.cellVoltages.map { Int(($0 * 1000).rounded()) }
        let raw = "AA5590" + cellsMv.prefix(8).map { hex4($0 & 0xFFFF) }.joined() + "FF"
        return [
            "type": "uart_frame", "timestamp_ms": .number(Double(now)), "direction": "RX", "raw": .string(raw),
            "parsed": [
                "command": 144, "length": 64, "voltage_mv": .number((pack.packVoltage * 1000).rounded()),
                "current_ma": .number((pack.current * 1000).rounded()), "cells": .array(cellsMv.map { .number(Double($0)) }),
            ],
        ]
    }

    /// Victron frames 0x356 (voltage, current, temperature) and 0x355 (SOC, SOH).
    static func canFrames(_ pack: TinyBMSPack, now: Int64) -> [JSONValue] {
        func bytes(_ value: Int) -> [JSONValue] { [.number(Double(value & 0xFF)), .number(Double((value >> 8) & 0xFF))] }
        let voltage = Int((pack.packVoltage * 100).rounded()), current = Int((pack.current * 10).rounded())
        let temperature = Int((pack.temperature * 10).rounded())
        let soc = Int(pack.soc.rounded()), soh = Int(pack.soh.rounded())
        return [
            [
                "type": "can_frame", "timestamp_ms": .number(Double(now)), "direction": "TX", "can_id": "0x356",
                "data": .array(bytes(voltage) + bytes(current) + bytes(temperature)), "dlc": 6,
                "decoded": ["voltage": .number(round(pack.packVoltage, 2)), "current": .number(round(pack.current, 1)),
                            "temperature": .number(round(pack.temperature, 1))],
            ],
            [
                "type": "can_frame", "timestamp_ms": .number(Double(now)), "direction": "TX", "can_id": "0x355",
                "data": .array(bytes(soc) + bytes(soh)), "dlc": 4,
                "decoded": ["soc": .number(Double(soc)), "soh": .number(Double(soh))],
            ],
        ]
    }
}

/// Four upper-case hex digits.
private func hex4(_ value: Int) -> String {
    let hex = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - hex.count)) + hex
}
