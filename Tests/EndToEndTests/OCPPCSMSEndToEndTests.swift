import Foundation
import Mosquitto
import Simulators
import Testing
import TestSupport

/// Mosquitto + the OCPP CSMS simulator + the real executable, driven only through MQTT. The
/// simulator ticks only when a test calls `tick()`; every wait is for a message, with a generous
/// guard against hangs.
@Suite("OCPP CSMS end to end", .serialized)
struct OCPPCSMSEndToEndTests {
    static let hang = Duration.seconds(60)

    func withBridge(
        _ configuration: OCPPCSMSSimulator.Configuration = .init(
            tickInterval: nil, simulatedStep: .seconds(60), commandTimeout: .milliseconds(500)),
        _ body: @Sendable (OCPPCSMSSimulator, MQTTProbe) async throws -> Void
    ) async throws {
        let simulator = OCPPCSMSSimulator(configuration: configuration)
        let port = try await simulator.start()
        do {
            try await MosquittoBroker.with { broker in
                let bridge = try BridgeProcess.start(
                    yaml: bridgeYAML(
                        broker: broker,
                        extra: """
                            sources:
                              - id: csms
                                type: ocpp_csms
                                name: CSMS
                                url: http://127.0.0.1:\(port)
                                username: bridge@example.com
                                password: bridge-password
                                remote_start_id_tag: TAG001
                                poll_interval: 1s
                            """))
                defer { bridge.stopAndRemoveFiles() }
                do {
                    try await MQTTProbe.with(broker) { probe in
                        try await probe.subscribe("api2mqtt/#")
                        try await probe.subscribe("homeassistant/#")
                        try await body(simulator, probe)
                    }
                    #expect(!bridge.log.contains("bridge-password"), "the password never reaches the log")
                    for token in ["bridge@example.com"].compactMap({ simulator.token(username: $0) }) {
                        #expect(!bridge.log.contains(token), "the token never reaches the log")
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

    /// The first JSON message on `topic` after the first `skip` ones that satisfies `predicate`.
    func state(
        _ probe: MQTTProbe, _ topic: String, after skip: Int = 0, where predicate: @escaping @Sendable ([String: Any]) -> Bool = { _ in true }
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + Self.hang
        while true {
            for message in probe.messages(on: topic).dropFirst(skip) {
                if let values = try? json(message), predicate(values) { return values }
            }
            guard ContinuousClock.now < deadline else { throw TestSupportError("no matching message on \(topic) (hang guard)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Presses or sets `command` of `device` and returns its one result.
    func command(_ probe: MQTTProbe, _ device: String, _ command: String, _ payload: String = "PRESS") async throws -> [String: Any] {
        let topic = "api2mqtt/\(device)/result"
        let before = probe.messages(on: topic).count
        try await probe.client.publish("api2mqtt/\(device)/\(command)/set", string: payload, qos: .atLeastOnce)
        return try await state(probe, topic, after: before)
    }

    func csc(_ simulator: OCPPCSMSSimulator) -> [[String: Any]] {
        simulator.requests.requests(path: "/api/v1/csc").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.bodyString.utf8)) as? [String: Any]
        }
    }

    @Test("devices per charge point and connector, nested; values; an offline charge point is off and stays available")
    func devicesAndValues() async throws {
        try await withBridge { _, probe in
            let point = try await state(probe, "api2mqtt/csms_cp001") { $0["online"] != nil && $0["status"] != nil }
            #expect(point["online"] as? Bool == true)
            #expect(point["status"] as? String == "Available")
            #expect(point["enabled"] as? Bool == true)
            let offline = try await state(probe, "api2mqtt/csms_cp003") { $0["online"] != nil }
            #expect(offline["online"] as? Bool == false)
            _ = try await probe.first(on: "api2mqtt/csms_cp003/availability", payload: "online", timeout: Self.hang)
            let connector = try await state(probe, "api2mqtt/csms_cp001_1") { $0["connector_status"] != nil && $0["power"] != nil }
            #expect(connector["connector_status"] as? String == "Available")
            #expect(connector["charging"] as? Bool == false)
            #expect(connector["power"] as? Double == 0, "live power, not the rated 22000")
            let pointConfig = try json(try await probe.first(on: "homeassistant/binary_sensor/csms_cp001/online/config", timeout: Self.hang))
            let pointDevice = try #require(pointConfig["device"] as? [String: Any])
            #expect(pointDevice["manufacturer"] as? String == "Alfen")
            #expect(pointDevice["serial_number"] as? String == "ALF-0001")
            #expect(pointDevice["sw_version"] as? String == "6.4.0")
            #expect(pointDevice["via_device"] as? String == "api2mqtt_csms")
            let statusConfig = try json(
                try await probe.first(on: "homeassistant/sensor/csms_cp001_1/connector_status/config", timeout: Self.hang))
            #expect((statusConfig["device"] as? [String: Any])?["via_device"] as? String == "api2mqtt_csms_cp001")
            #expect((statusConfig["options"] as? [String])?.count == 9)
            _ = try await probe.first(on: "homeassistant/event/csms_cp001_1/session/config", timeout: Self.hang)
            _ = try await probe.first(on: "homeassistant/button/csms_cp001_1/start_charging/config", timeout: Self.hang)
            _ = try await probe.first(on: "homeassistant/switch/csms_cp001/enabled/config", timeout: Self.hang)
            // The CSMS's own device (the charge points' via_device) has entities of its own.
            let main = try await state(probe, "api2mqtt/csms") { $0["account"] != nil }
            #expect(main["account"] as? String == "bridge@example.com")
            let accountConfig = try json(try await probe.first(on: "homeassistant/sensor/csms/account/config", timeout: Self.hang))
            #expect((accountConfig["device"] as? [String: Any])?["name"] as? String == "CSMS")
        }
    }

    @Test("start → Charging with power and a started event; stop → Finishing/Available and a stopped event; one result each")
    func startAndStop() async throws {
        try await withBridge { simulator, probe in
            _ = try await state(probe, "api2mqtt/csms_cp001_1") { $0["connector_status"] as? String == "Available" }
            // No transaction yet: stop is an error result and nothing is sent.
            let early = try await command(probe, "csms_cp001_1", "stop_charging")
            #expect(early["status"] as? String == "error", "\(early)")
            #expect(csc(simulator).isEmpty)

            let started = try await command(probe, "csms_cp001_1", "start_charging")
            #expect(started["status"] as? String == "ok", "\(started)")
            let start = try #require(csc(simulator).last)
            #expect(start["feature_name"] as? String == "RemoteStartTransaction")
            #expect(start["payload"] as? String == "TAG001")
            simulator.tick(times: 2)
            let charging = try await state(probe, "api2mqtt/csms_cp001_1") {
                $0["connector_status"] as? String == "Charging" && ($0["power"] as? Double ?? 0) > 0
            }
            #expect(charging["charging"] as? Bool == true)
            #expect((charging["power"] as? Double ?? 0) <= 22000)
            #expect(charging["id_tag"] as? String == "TAG001")
            let event = try json(try await probe.first(on: "api2mqtt/csms_cp001_1/session", timeout: Self.hang))
            #expect(event["event_type"] as? String == "started")
            let transaction = try #require(simulator.state.activeTransactions.first?.id)
            #expect(event["transaction_id"] as? Double == Double(transaction))
            simulator.tick()
            _ = try await state(probe, "api2mqtt/csms_cp001_1") { ($0["session_energy"] as? Double ?? 0) > 0 }

            let stopped = try await command(probe, "csms_cp001_1", "stop_charging")
            #expect(stopped["status"] as? String == "ok", "\(stopped)")
            let stop = try #require(csc(simulator).last)
            #expect(stop["feature_name"] as? String == "RemoteStopTransaction")
            #expect(stop["payload"] as? String == String(transaction))
            let finished = try await state(probe, "api2mqtt/csms_cp001_1") {
                ["Finishing", "Available"].contains($0["connector_status"] as? String ?? "")
                    && ($0["connector_status"] as? String) != nil && $0["charging"] as? Bool == false
            }
            #expect(finished["power"] as? Double == 0)
            _ = try await probe.first(
                on: "api2mqtt/csms_cp001_1/session", timeout: Self.hang,
                where: { (try? json($0))?["event_type"] as? String == "stopped" })
            let results = probe.messages(on: "api2mqtt/csms_cp001_1/result").count
            #expect(results == 3, "one result per command")
            #expect(csc(simulator).count == 2)
        }
    }

    @Test("rejected commands are error results with the CSMS's reason; unlock is not supported; unknown targets make no call")
    func rejections() async throws {
        try await withBridge { simulator, probe in
            _ = try await state(probe, "api2mqtt/csms_cp002") { $0["online"] as? Bool == true }
            _ = try await state(probe, "api2mqtt/csms_cp002_1") { $0["connector_status"] != nil }
            simulator.faults.enable(.rejectCommands, times: 1)
            let rejected = try await command(probe, "csms_cp002", "reset")
            #expect(rejected["status"] as? String == "error", "\(rejected)")
            #expect((rejected["error"] as? String ?? "").contains("Rejected"), "\(rejected)")
            simulator.faults.enable(.commandErrors, times: 1)
            let failed = try await command(probe, "csms_cp002_1", "start_charging")
            #expect(failed["status"] as? String == "error", "\(failed)")
            let unlock = try await command(probe, "csms_cp002_1", "unlock_connector")
            #expect(unlock["status"] as? String == "error", "\(unlock)")
            #expect(unlock["error_code"] as? String == "not_supported", "\(unlock)")
            // A charger that does not answer: an error result, not ok.
            try simulator.setUnresponsive("CP002", true)
            let silent = try await command(probe, "csms_cp002", "reset")
            #expect(silent["status"] as? String == "error", "\(silent)")
            try simulator.setUnresponsive("CP002", false)
            let calls = csc(simulator).count
            // An offline charge point's connector: the CSMS says it is not connected.
            let offline = try await command(probe, "csms_cp003_1", "start_charging")
            #expect(offline["status"] as? String == "error", "\(offline)")
            #expect(csc(simulator).count <= calls + 1)
            #expect(probe.messages(on: "api2mqtt/csms_cp002/result").count == 2)
            #expect(probe.messages(on: "api2mqtt/csms_cp002_1/result").count == 2)
        }
    }

    @Test("reset → the charge point goes offline and comes back; the enabled switch disables and enables it")
    func resetAndEnable() async throws {
        try await withBridge { simulator, probe in
            _ = try await state(probe, "api2mqtt/csms_cp001") { $0["online"] as? Bool == true }
            let before = probe.messages(on: "api2mqtt/csms_cp001").count
            let reset = try await command(probe, "csms_cp001", "reset")
            #expect(reset["status"] as? String == "ok", "\(reset)")
            _ = try await state(probe, "api2mqtt/csms_cp001", after: before) { $0["online"] as? Bool == false }
            let offlineAt = probe.messages(on: "api2mqtt/csms_cp001").count
            simulator.tick(times: 2)
            _ = try await state(probe, "api2mqtt/csms_cp001", after: offlineAt) { $0["online"] as? Bool == true }

            let disabled = try await command(probe, "csms_cp001", "enabled", "OFF")
            #expect(disabled["status"] as? String == "ok", "\(disabled)")
            _ = try await state(probe, "api2mqtt/csms_cp001") { $0["enabled"] as? Bool == false }
            #expect(simulator.state.chargePoints.first { $0.id == "CP001" }?.isEnabled == false)
            let enabled = try await command(probe, "csms_cp001", "enabled", "ON")
            #expect(enabled["status"] as? String == "ok", "\(enabled)")
            let enabledAt = probe.messages(on: "api2mqtt/csms_cp001").count
            _ = try await state(probe, "api2mqtt/csms_cp001", after: enabledAt - 1) { $0["enabled"] as? Bool == true }
        }
    }

    @Test("token rotation: the bridge logs in again and values continue")
    func tokenRotation() async throws {
        try await withBridge { simulator, probe in
            _ = try await state(probe, "api2mqtt/csms_cp001_2") { $0["connector_status"] as? String == "Available" }
            let logins = simulator.requests.count(path: "/api/v1/users/authenticate")
            try simulator.rotateToken(username: "bridge@example.com")
            try simulator.plugIn(chargePointID: "CP001", connectorID: 2, idTag: "TAG001")
            simulator.tick()
            _ = try await state(probe, "api2mqtt/csms_cp001_2") { $0["connector_status"] as? String == "Charging" }
            #expect(simulator.requests.count(path: "/api/v1/users/authenticate") > logins)
            #expect(probe.messages(on: "api2mqtt/csms_cp001_2/availability").last?.payloadString == "online")
        }
    }

    @Test("the CSMS down → every charge point and connector unavailable; back → available")
    func downAndBack() async throws {
        try await withBridge { simulator, probe in
            _ = try await probe.first(on: "api2mqtt/csms_cp001_1/availability", payload: "online", timeout: Self.hang)
            _ = try await probe.first(on: "api2mqtt/csms_cp003/availability", payload: "online", timeout: Self.hang)
            let marks = ["csms_cp001", "csms_cp001_1", "csms_cp002_1", "csms_cp003"].map {
                ($0, probe.messages(on: "api2mqtt/\($0)/availability").count)
            }
            await simulator.stopAbruptly()
            for (device, _) in marks {
                _ = try await probe.first(on: "api2mqtt/\(device)/availability", payload: "offline", timeout: Self.hang)
            }
            try await simulator.start()
            for (device, count) in marks {
                let topic = "api2mqtt/\(device)/availability"
                let deadline = ContinuousClock.now + Self.hang
                while probe.messages(on: topic).dropFirst(count).last?.payloadString != "online" {
                    guard ContinuousClock.now < deadline else { throw TestSupportError("\(device) never came back (hang guard)") }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        }
    }
}
