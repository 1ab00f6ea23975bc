import Foundation
import Mosquitto
import Simulators
import Testing
import TestSupport

/// Mosquitto + the TinyBMS gateway simulator + the real executable, driven only through MQTT.
/// Waits are for the awaited message itself; the timeouts only guard against hangs.
@Suite("TinyBMS end to end", .serialized)
struct TinyBMSEndToEndTests {
    static let device = "api2mqtt/bms"

    func withBridge(
        _ configuration: TinyBMSSimulator.Configuration = .init(tickInterval: .milliseconds(250)),
        beforeBridge: (@Sendable (MQTTProbe) async throws -> Void)? = nil,
        _ body: @Sendable (TinyBMSSimulator, MQTTProbe) async throws -> Void
    ) async throws {
        let simulator = TinyBMSSimulator(configuration: configuration)
        let port = try await simulator.start()
        do {
            try await MosquittoBroker.with { broker in
                if let beforeBridge {
                    try await MQTTProbe.with(broker) { probe in try await beforeBridge(probe) }
                }
                let bridge = try BridgeProcess.start(
                    yaml: bridgeYAML(
                        broker: broker,
                        extra: """
                            sources:
                              - id: bms
                                type: tinybms
                                name: Battery BMS
                                url: http://127.0.0.1:\(port)
                                stream: websocket
                                poll_interval: 1s
                                timeout: 2s
                            """))
                defer { bridge.stopAndRemoveFiles() }
                do {
                    try await MQTTProbe.with(broker) { probe in
                        try await probe.subscribe("api2mqtt/#")
                        try await probe.subscribe("homeassistant/#")
                        try await body(simulator, probe)
                    }
                } catch {
                    let tail = bridge.log.split(separator: "\n").suffix(40).joined(separator: "\n")
                    Issue.record("bridge log (last 40 lines):\n\(tail)")
                    throw error
                }
            }
            await simulator.stop()
        } catch {
            await simulator.stop()
            throw error
        }
    }

    /// The device JSON once it holds `key`.
    static func state(_ probe: MQTTProbe, with key: String) async throws -> [String: Any] {
        try json(try await probe.first(on: device, timeout: .seconds(30), where: { (try? json($0))?[key] != nil }))
    }

    /// The next command result after `count` results were seen.
    static func result(_ probe: MQTTProbe, after count: Int) async throws -> [String: Any] {
        _ = try await probe.first(
            on: "\(device)/result", timeout: .seconds(30), where: { _ in probe.messages(on: "\(device)/result").count > count })
        return try json(try #require(probe.messages(on: "\(device)/result").dropFirst(count).first))
    }

    static func checkPack(_ values: [String: Any]) {
        let voltage = values["pack_voltage"] as? Double ?? 0
        #expect((40...60).contains(voltage), "pack voltage \(voltage) V")
        let cell = values["cell_01_voltage"] as? Double ?? 0
        #expect((2.5...3.65).contains(cell), "cell 1 \(cell) V")
        let soc = values["state_of_charge"] as? Double ?? -1
        #expect((0...100).contains(soc))
        #expect(values["pack_current"] is Double)
        #expect(values["power"] is Double)
        #expect(values["cell_voltage_delta"] is Double)
        #expect(["charging", "discharging", "idle"].contains(values["battery_status"] as? String ?? ""))
    }

    @Test("documented telemetry (mV, mA, cells[]) reaches api2mqtt/bms in V, A, W and %, with discovery and availability")
    func documentedValues() async throws {
        try await withBridge { simulator, probe in
            let values = try await Self.state(probe, with: "cell_16_voltage")
            Self.checkPack(values)
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "online", timeout: .seconds(30))
            let discovery = try json(try await probe.first(on: "homeassistant/sensor/bms/pack_voltage/config", timeout: .seconds(30)))
            #expect(discovery["unit_of_measurement"] as? String == "V")
            #expect(simulator.state.telemetryFrames > 0)
        }
    }

    @Test("deployed firmware's wrapped SI telemetry maps to the same entities, plus energy counters")
    func deployedValues() async throws {
        let configuration = TinyBMSSimulator.Configuration(
            tickInterval: .milliseconds(250), quirks: TinyBMSSimulator.deployedFirmwareQuirks)
        try await withBridge(configuration) { simulator, probe in
            // Energy counters at 0 are withheld by the counter guard: let both move first.
            simulator.hold(current: 40)
            _ = try await Self.state(probe, with: "energy_charged")
            simulator.hold(current: -40)
            let values = try await Self.state(probe, with: "energy_discharged")
            Self.checkPack(try await Self.state(probe, with: "cell_16_voltage"))
            #expect((values["energy_charged"] as? Double ?? 0) > 0)
            #expect(values["cycle_count"] is Double)
            #expect(simulator.faults.isEnabled(.tinyBMSWrappedTelemetry))
        }
    }

    @Test("an alert raised gives one alert event and the count; acknowledging one and then all gives one ok result each")
    func alerts() async throws {
        try await withBridge { simulator, probe in
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "online", timeout: .seconds(30))
            // The alert socket is up once the bridge reports its stream up.
            _ = try await probe.first(
                on: "api2mqtt/bridge/sources", timeout: .seconds(30),
                where: { ((try? json($0))?["bms"] as? [String: Any])?["stream"] as? String == "up" })
            let first = simulator.raiseAlert(type: 1, severity: 2, message: "Température élevée: 48°C > 45°C")
            let event = try json(try await probe.first(on: "\(Self.device)/alert", timeout: .seconds(30)))
            #expect(event["event_type"] as? String == "critical", "\(event)")
            _ = try await probe.first(
                on: Self.device, timeout: .seconds(30), where: { (try? json($0))?["active_alerts"] as? Double == 1 })
            #expect(probe.messages(on: "\(Self.device)/alert").allSatisfy { !$0.retain })

            try await probe.client.publish(
                "\(Self.device)/acknowledge_alert/set", string: #"{"value":\#(first.alertId),"transaction":"a1"}"#, qos: .atLeastOnce)
            let one = try await Self.result(probe, after: 0)
            #expect(one["status"] as? String == "ok", "\(one)")
            #expect(one["transaction"] as? String == "a1")
            #expect(!simulator.state.activeAlerts.contains { $0.alertId == first.alertId })
            _ = try await probe.first(
                on: Self.device, timeout: .seconds(30), where: { (try? json($0))?["active_alerts"] as? Double == 0 })

            simulator.raiseAlert(type: 4, severity: 1, message: "Tension cellule basse")
            simulator.raiseAlert(type: 2, severity: 0, message: "Température basse")
            _ = try await probe.first(
                on: Self.device, timeout: .seconds(30), where: { (try? json($0))?["active_alerts"] as? Double == 2 })
            try await probe.client.publish("\(Self.device)/acknowledge_all_alerts/set", string: "PRESS", qos: .atLeastOnce)
            let all = try await Self.result(probe, after: 1)
            #expect(all["status"] as? String == "ok", "\(all)")
            #expect(simulator.state.activeAlerts.isEmpty)
            let counts = probe.messages(on: Self.device).compactMap { (try? json($0))?["active_alerts"] as? Double }
            _ = try await probe.first(
                on: Self.device, timeout: .seconds(30),
                where: { [counts] message in
                    (try? json(message))?["active_alerts"] as? Double == 0
                        && probe.messages(on: Self.device).compactMap { (try? json($0))?["active_alerts"] as? Double }.count > counts.count
                })
            // An unknown id is an error result, not ok.
            try await probe.client.publish("\(Self.device)/acknowledge_alert/set", string: "9999", qos: .atLeastOnce)
            let unknown = try await Self.result(probe, after: 2)
            #expect(unknown["status"] as? String == "error", "\(unknown)")
            try await Task.sleep(for: .seconds(1))
            #expect(probe.messages(on: "\(Self.device)/result").count == 3)
        }
    }

    @Test("a threshold in range POSTs its one field with an ok result; out of range is an error result and no POST")
    func thresholds() async throws {
        try await withBridge { simulator, probe in
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "online", timeout: .seconds(30))
            try await probe.client.publish("\(Self.device)/temperature_max_threshold/set", string: "50", qos: .atLeastOnce)
            let ok = try await Self.result(probe, after: 0)
            #expect(ok["status"] as? String == "ok", "\(ok)")
            #expect(simulator.state.alertConfig.temperatureMaxC == 50)
            try await probe.client.publish("\(Self.device)/cell_voltage_max_threshold/set", string: "3.6", qos: .atLeastOnce)
            let cell = try await Self.result(probe, after: 1)
            #expect(cell["status"] as? String == "ok", "\(cell)")
            #expect(simulator.state.alertConfig.cellVoltageMaxMv == 3600)
            _ = try await probe.first(
                on: Self.device, timeout: .seconds(30), where: { (try? json($0))?["cell_voltage_max_threshold"] as? Double == 3.6 })

            let posts = simulator.requests.count(method: "POST", path: "/api/alerts/config")
            try await probe.client.publish("\(Self.device)/temperature_max_threshold/set", string: "150", qos: .atLeastOnce)
            let rejected = try await Self.result(probe, after: 2)
            #expect(rejected["error_code"] as? String == "invalid_value", "\(rejected)")
            try await probe.client.publish("\(Self.device)/cell_voltage_min_threshold/set", string: "1.2", qos: .atLeastOnce)
            let rejectedCell = try await Self.result(probe, after: 3)
            #expect(rejectedCell["error_code"] as? String == "invalid_value", "\(rejectedCell)")
            try await Task.sleep(for: .seconds(1))
            #expect(simulator.requests.count(method: "POST", path: "/api/alerts/config") == posts)
            #expect(probe.messages(on: "\(Self.device)/result").count == 4)
        }
    }

    @Test("the gateway going down marks the device offline, and online again with values flowing when it returns")
    func gatewayDown() async throws {
        try await withBridge { simulator, probe in
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "online", timeout: .seconds(30))
            await simulator.stopAbruptly()
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "offline", timeout: .seconds(60))
            let offlineAt = probe.messages(on: "\(Self.device)/availability").count
            try await simulator.start()
            _ = try await probe.first(
                on: "\(Self.device)/availability", timeout: .seconds(60),
                where: { _ in
                    probe.messages(on: "\(Self.device)/availability").dropFirst(offlineAt).contains { $0.payloadString == "online" }
                })
            let before = probe.messages(on: Self.device).count
            _ = try await probe.first(
                on: Self.device, timeout: .seconds(30), where: { [before] _ in probe.messages(on: Self.device).count > before + 2 })
        }
    }

    @Test("restart gateway: one ok result, the device goes offline, and online again when the gateway is back")
    func restartGateway() async throws {
        let configuration = TinyBMSSimulator.Configuration(tickInterval: .milliseconds(250), gatewayRebootDuration: nil)
        try await withBridge(configuration) { simulator, probe in
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "online", timeout: .seconds(30))
            try await probe.client.publish("\(Self.device)/restart_gateway/set", string: "PRESS", qos: .atLeastOnce)
            let result = try await Self.result(probe, after: 0)
            #expect(result["status"] as? String == "ok", "\(result)")
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "offline", timeout: .seconds(60))
            #expect(simulator.state.gatewayRebooting)
            // A restart while the gateway reboots is an error result, not a hang.
            try await probe.client.publish("\(Self.device)/restart_bms/set", string: "PRESS", qos: .atLeastOnce)
            let refused = try await Self.result(probe, after: 1)
            #expect(refused["status"] as? String == "error", "\(refused)")
            let offlineAt = probe.messages(on: "\(Self.device)/availability").count
            try await simulator.finishRestart()
            _ = try await probe.first(
                on: "\(Self.device)/availability", timeout: .seconds(60),
                where: { _ in
                    probe.messages(on: "\(Self.device)/availability").dropFirst(offlineAt).contains { $0.payloadString == "online" }
                })
            #expect(simulator.state.restartRequests == ["gateway"])
        }
    }

    @Test("restart BMS on firmware whose UART restart fails: one ok result with http_status 202 (gateway fallback), offline, online")
    func restartFallback() async throws {
        let configuration = TinyBMSSimulator.Configuration(
            tickInterval: .milliseconds(250), gatewayRebootDuration: nil, quirks: [.tinyBMSRestartFallback])
        try await withBridge(configuration) { simulator, probe in
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "online", timeout: .seconds(30))
            try await probe.client.publish("\(Self.device)/restart_bms/set", string: "PRESS", qos: .atLeastOnce)
            let result = try await Self.result(probe, after: 0)
            #expect(result["status"] as? String == "ok", "\(result)")
            #expect(result["http_status"] as? Int == 202, "\(result)")
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "offline", timeout: .seconds(60))
            let offlineAt = probe.messages(on: "\(Self.device)/availability").count
            try await simulator.finishRestart()
            _ = try await probe.first(
                on: "\(Self.device)/availability", timeout: .seconds(60),
                where: { _ in
                    probe.messages(on: "\(Self.device)/availability").dropFirst(offlineAt).contains { $0.payloadString == "online" }
                })
            #expect(probe.messages(on: "\(Self.device)/result").count == 1)
        }
    }

    @Test("a retained restart command waiting on the broker never restarts anything when the bridge subscribes")
    func retainedRestart() async throws {
        try await withBridge(
            beforeBridge: { probe in
                try await probe.client.publish("\(Self.device)/restart_bms/set", string: "PRESS", qos: .atLeastOnce, retain: true)
                try await probe.client.publish("\(Self.device)/restart_gateway/set", string: "PRESS", qos: .atLeastOnce, retain: true)
            }
        ) { simulator, probe in
            _ = try await probe.first(on: "\(Self.device)/availability", payload: "online", timeout: .seconds(30))
            // The retained commands were on the broker when the bridge subscribed. Something observable
            // after them: a live threshold command goes through.
            try await probe.client.publish(
                "\(Self.device)/alert_debounce/set", string: #"{"value":30,"transaction":"d1"}"#, qos: .atLeastOnce)
            let debounce = try json(
                try await probe.first(
                    on: "\(Self.device)/result", timeout: .seconds(30), where: { (try? json($0))?["transaction"] as? String == "d1" }))
            #expect(debounce["status"] as? String == "ok", "\(debounce)")
            #expect(simulator.state.alertConfig.debounceSec == 30)
            try await Task.sleep(for: .seconds(1))
            #expect(simulator.state.restartRequests.isEmpty)
            #expect(simulator.requests.count(method: "POST", path: "/api/system/restart") == 0)
        }
    }

    @Test("eviction by a browser tab: the telemetry socket reconnects and values keep flowing")
    func eviction() async throws {
        let configuration = TinyBMSSimulator.Configuration(
            tickInterval: .milliseconds(250), quirks: TinyBMSSimulator.deployedFirmwareQuirks)
        try await withBridge(configuration) { simulator, probe in
            _ = try await probe.first(
                on: "api2mqtt/bridge/sources", timeout: .seconds(30),
                where: { ((try? json($0))?["bms"] as? [String: Any])?["stream"] as? String == "up" })
            let opened = simulator.state.socketsOpened["/ws/telemetry"] ?? 0
            // Tabs fill the 7 sockets: the bridge's least recently used sockets are closed.
            let evicted = simulator.openBrowserTabs(7)
            #expect(evicted >= 1)
            simulator.closeBrowserTabs()
            let framesBefore = simulator.state.telemetryFrames
            let statesBefore = probe.messages(on: Self.device).count
            _ = try await probe.first(
                on: Self.device, timeout: .seconds(60),
                where: { _ in
                    (simulator.state.socketsOpened["/ws/telemetry"] ?? 0) > opened
                        && probe.messages(on: Self.device).count > statesBefore + 3
                })
            #expect(simulator.state.telemetryFrames > framesBefore)
            #expect(probe.messages(on: "\(Self.device)/availability").last?.payloadString == "online")
        }
    }
}
