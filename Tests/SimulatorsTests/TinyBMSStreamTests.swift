import BridgeCore
import NIOWebSocket
import Simulators
import Testing

/// The gateway's WebSockets over real sockets.
@Suite("TinyBMS simulator: WebSockets")
struct TinyBMSStreamTests {
    static let cellKeys: Set<String> = ["index", "voltage_mv", "balancing"]
    static let frameKeys: Set<String> = [
        "type", "timestamp_ms", "voltage_mv", "current_ma", "soc_percent", "soh_percent", "temperature_c", "cells", "status", "protection",
    ]

    @Test("/ws/telemetry: the latest frame on connect, then one battery_data frame per tick, equal to what the pack holds")
    func telemetry() async throws {
        try await withTinyBMS { (simulator, _) async throws in
            simulator.tick()
            let socket = try await openSocket(simulator, "/ws/telemetry")
            try await socket.messages(atLeast: 1)
            let sent = simulator.tick(1)
            simulator.tick(2)
            let frames = try await socket.messages(atLeast: 4).compactMap { JSON.decode($0) }
            #expect(frames.count == 4)
            #expect(frames.allSatisfy { $0.keys == Self.frameKeys && $0["type"]?.string == "battery_data" })
            #expect(frames[1] == sent)
            let stamps = frames.compactMap { $0["timestamp_ms"]?.integer }
            #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $1 - $0 == 1_000 })
            let last = try #require(frames.last)
            let cells = try #require(last["cells"]?.array)
            #expect(cells.count == 16 && cells.allSatisfy { $0.keys == Self.cellKeys })
            #expect(cells.compactMap { $0["index"]?.integer } == Array(0..<16))
            #expect(last["protection"]?.keys == ["ov", "uv", "oc_charge", "oc_discharge", "temp_high", "temp_low"])
            let state = simulator.state
            #expect(cells.compactMap { $0["voltage_mv"]?.number } == state.cellMillivolts)
            #expect(last["voltage_mv"]?.number == (state.packVoltage * 1000).rounded())
            try await socket.close()
            try await eventually("the simulator to forget the closed socket") { simulator.state.openSockets["/ws/telemetry"] == nil }
        }
    }

    @Test("a burst sends one frame per tick, in order, with simulated time advancing by the tick interval")
    func burst() async throws {
        try await withTinyBMS(.test(tickInterval: .milliseconds(10))) { (simulator, _) async throws in
            let socket = try await openSocket(simulator, "/ws/telemetry")
            await simulator.burst(50, every: .milliseconds(10))
            let frames = try await socket.messages(atLeast: 50).compactMap { JSON.decode($0) }
            let stamps = frames.compactMap { $0["timestamp_ms"]?.integer }
            #expect(stamps.count == 50)
            #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $1 - $0 == 10 })
            #expect(simulator.state.ticks == 50)
            try await socket.close()
        }
    }

    @Test("the telemetry interval changes at run time: simulated time per frame follows it, and back")
    func telemetryInterval() async throws {
        try await withTinyBMS { (simulator, _) async throws in
            #expect(simulator.telemetryInterval == .seconds(1))
            let socket = try await openSocket(simulator, "/ws/telemetry")
            simulator.tick(2)
            simulator.setTelemetryInterval(.milliseconds(10))
            #expect(simulator.telemetryInterval == .milliseconds(10))
            simulator.tick(3)
            simulator.setTelemetryInterval(.seconds(1))
            simulator.tick(1)
            let frames = try await socket.messages(atLeast: 6).compactMap { JSON.decode($0) }
            let stamps = frames.compactMap { $0["timestamp_ms"]?.integer }
            #expect(zip(stamps, stamps.dropFirst()).map { $1 - $0 } == [1_000, 10, 10, 10, 1_000])
            #expect(simulator.state.ticks == 6)
            try await socket.close()
        }
    }

    @Test("a JSON ping gets a pong with timestamp_ms")
    func jsonPing() async throws {
        try await withTinyBMS { (simulator, _) async throws in
            let socket = try await openSocket(simulator, "/ws/events")
            socket.send(#"{"type":"ping"}"#)
            let pong = try await socket.document("a pong") { $0["type"]?.string == "pong" }
            #expect(pong.keys == ["type", "timestamp_ms"])
            try await socket.close()
        }
    }

    @Test("/ws/alerts: the active alerts on connect, a threshold alert when raised, the list after an acknowledgement; /ws/events: ALERT_TRIGGERED")
    func alerts() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.raiseAlert(type: 10, severity: 0, message: "earlier")
            let alerts = try await openSocket(simulator, "/ws/alerts")
            let events = try await openSocket(simulator, "/ws/events")
            let snapshot = try await alerts.document("the snapshot") { $0["type"]?.string == "alerts" }
            #expect(snapshot["alerts"]?.array?.count == 1)

            #expect(try await http.post("/api/alerts/config", body: #"{"debounce_sec":0,"temperature_max_c":40}"#).status == 200)
            simulator.hold(temperature: 41)
            simulator.tick()
            let alert = try await alerts.document("the temperature alert") { $0["type"]?.string == "alert" }
            #expect(alert["alert"]?.keys == ["alert_id", "type", "severity", "status", "message", "timestamp_ms"])
            #expect(alert["alert"]?["type"]?.integer == 1 && alert["alert"]?["severity"]?.integer == 2)
            let id = try #require(alert["alert"]?["alert_id"]?.integer)
            let triggered = try await events.document("ALERT_TRIGGERED") { $0["event"]?.string == "ALERT_TRIGGERED" }
            #expect(triggered.keys == ["type", "event", "timestamp_ms", "data"] && triggered["type"]?.string == "system_event")
            #expect(triggered["data"]?["alert_id"]?.integer == id)

            #expect(try await http.post("/api/alerts/acknowledge/\(id)", body: "").status == 200)
            let after = try await alerts.document("the list after the acknowledgement") {
                $0["type"]?.string == "alerts" && $0["alerts"]?.array?.count == 1 && $0["alerts"]?[0]?["alert_id"]?.integer != id
            }
            #expect(after["alerts"]?[0]?["message"]?.string == "earlier")
            try await alerts.close()
            try await events.close()
        }
    }

    @Test("/ws/events: BATTERY_STATUS_CHANGE when the current changes direction")
    func statusChange() async throws {
        try await withTinyBMS { (simulator, _) async throws in
            simulator.hold(current: -20)
            simulator.tick()
            let events = try await openSocket(simulator, "/ws/events")
            simulator.hold(current: 20)
            simulator.tick()
            let change = try await events.document("BATTERY_STATUS_CHANGE") { $0["event"]?.string == "BATTERY_STATUS_CHANGE" }
            #expect(change["data"] == ["from": "DISCHARGING", "to": "CHARGING"])
            try await events.close()
        }
    }

    @Test("/ws/uart and /ws/can send a frame (CAN: two) per tick; none on CAN while the bus is off")
    func uartAndCAN() async throws {
        try await withTinyBMS { (simulator, _) async throws in
            let uart = try await openSocket(simulator, "/ws/uart")
            let can = try await openSocket(simulator, "/ws/can")
            simulator.tick()
            let frame = try #require(JSON.decode(try await uart.messages(atLeast: 1)[0]))
            #expect(frame["type"]?.string == "uart_frame" && frame["direction"]?.string == "RX")
            #expect(frame["parsed"]?["cells"]?.array?.count == 16)
            let canFrames = try await can.messages(atLeast: 2).compactMap { JSON.decode($0) }
            #expect(canFrames.map { $0["can_id"]?.string } == ["0x356", "0x355"])
            #expect(canFrames.allSatisfy { $0["type"]?.string == "can_frame" && $0["dlc"]?.integer == Int64($0["data"]?.array?.count ?? -1) })
            simulator.setCANState("BUS_OFF")
            simulator.tick()
            try await uart.messages(atLeast: 2)
            #expect(can.messages.count == 2)
            try await uart.close()
            try await can.close()
        }
    }

    @Test("a BMS restart closes the telemetry socket; a new one gets no frame until the BMS is back")
    func bmsRestartClosesTelemetry() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.tick()
            let socket = try await openSocket(simulator, "/ws/telemetry")
            try await socket.messages(atLeast: 1)
            #expect(try await http.post("/api/system/restart", body: #"{"target":"bms"}"#).status == 200)
            #expect(try await socket.end().isClosedByServer)
            let during = try await openSocket(simulator, "/ws/telemetry")
            simulator.tick()
            try await simulator.finishRestart()
            simulator.tick()
            let frames = try await during.messages(atLeast: 1)
            #expect(frames.count == 1, "the tick during the restart sent nothing")
            try await during.close()
        }
    }

    @Test("a gateway restart cuts every socket")
    func gatewayRestartCutsSockets() async throws {
        try await withTinyBMS(keepAlive: false) { (simulator, http) async throws in
            let telemetry = try await openSocket(simulator, "/ws/telemetry")
            let alerts = try await openSocket(simulator, "/ws/alerts")
            #expect(try await http.post("/api/system/restart", body: #"{"target":"gateway","delay_ms":0}"#).status == 200)
            _ = try await telemetry.end()
            _ = try await alerts.end()
            try await eventually("the gateway to go down") { simulator.state.gatewayRebooting }
            try await simulator.finishRestart()
            let again = try await openSocket(simulator, "/ws/alerts")
            try await again.messages(atLeast: 1)
            try await again.close()
        }
    }
}
