import BridgeCore
import NIOWebSocket
import Simulators
import Testing

/// The deployed-firmware behaviours of FIELD-NOTES.md ("TinyBMS gateway").
@Suite("TinyBMS simulator: deployed-firmware quirks")
struct TinyBMSQuirkTests {
    static let siKeys: Set<String> = [
        "type", "timestamp_ms", "pack_voltage_v", "pack_current_a", "power_w", "state_of_charge_pct", "state_of_health_pct",
        "average_temperature_c", "min_temperature_c", "max_temperature_c", "cell_voltage_mv", "cell_balancing", "min_cell_mv",
        "max_cell_mv", "alarm_bits", "warning_bits", "energy_charged_kwh", "energy_discharged_kwh", "cycle_count", "status",
    ]

    @Test("wrapped telemetry: the first frame after connecting is the bare SI object, the next ones {\"battery\": {...}}")
    func wrappedTelemetry() async throws {
        try await withTinyBMS(.test(quirks: [.tinyBMSWrappedTelemetry])) { (simulator, _) async throws in
            simulator.hold(current: 12.5)
            simulator.tick()
            let socket = try await openSocket(simulator, "/ws/telemetry")
            simulator.tick(2)
            let frames = try await socket.messages(atLeast: 3).compactMap { JSON.decode($0) }
            #expect(frames.count == 3)
            #expect(frames[0].keys == Self.siKeys && frames[0]["type"]?.string == "battery")
            for frame in frames.dropFirst() {
                #expect(frame.keys == ["battery"])
                #expect(frame["battery"]?.keys == Self.siKeys)
            }
            let last = try #require(frames.last?["battery"])
            let state = simulator.state
            #expect(last["pack_current_a"]?.number == 12.5, "positive = charging, in A")
            #expect(last["status"]?.string == "CHARGING")
            #expect(last["cell_voltage_mv"]?.numbers == state.cellMillivolts)
            #expect(last["cell_balancing"]?.numbers?.count == 16)
            let volts = try #require(last["pack_voltage_v"]?.number)
            let power = try #require(last["power_w"]?.number)
            #expect(abs(power - volts * 12.5) < 0.1)
            #expect(last["timestamp_ms"]?.integer == 3_000, "milliseconds since boot")
            try await socket.close()

            // A new connection starts unwrapped again.
            let second = try await openSocket(simulator, "/ws/telemetry")
            simulator.tick()
            let again = try await second.messages(atLeast: 2).compactMap { JSON.decode($0) }
            #expect(again[0]["type"]?.string == "battery" && again[1].keys == ["battery"])
            try await second.close()
        }
    }

    @Test("wrapped telemetry: GET /api/status answers {\"battery\": {...SI...}}")
    func wrappedStatus() async throws {
        try await withTinyBMS(.test(quirks: [.tinyBMSWrappedTelemetry])) { (simulator, http) async throws in
            simulator.tick()
            let status = try #require(try await http.get("/api/status").json)
            #expect(status.keys == ["battery"])
            #expect(status["battery"]?.keys == Self.siKeys)
            #expect(status["battery"]?["pack_voltage_v"]?.number == (simulator.state.packVoltage * 1000).rounded() / 1000)
        }
    }

    @Test("no JSON ping: the ping is received but never answered; protocol pings still are (WSClient's auto-ping keeps it open)")
    func noJSONPing() async throws {
        try await withTinyBMS(.test(quirks: [.tinyBMSNoJSONPing])) { (simulator, _) async throws in
            let socket = try await openSocket(simulator, "/ws/telemetry")
            socket.send(#"{"type":"ping"}"#)
            try await eventually("the gateway to read the ping") { simulator.state.jsonPingsReceived == 1 }
            simulator.tick()
            try await socket.messages(atLeast: 1)
            #expect(socket.documents.allSatisfy { $0["type"]?.string == "battery_data" }, "no pong: \(socket.messages)")
            try await socket.close()
        }
    }

    @Test("plain-text errors: a rejected request answers text/plain instead of the document's JSON")
    func plainTextErrors() async throws {
        try await withTinyBMS(.test(quirks: [.tinyBMSPlainTextErrors])) { (_, http) async throws in
            let answer = try await http.post("/api/alerts/config", body: #"{"temperature_max_c":500}"#)
            #expect(answer.status == 400)
            #expect(answer.headers["content-type"] == "text/plain")
            #expect(answer.json == nil)
            #expect(answer.text.contains("temperature_max_c"))
        }
    }

    @Test("socket limit: a browser tab beyond 7 sockets evicts the least recently used WebSocket; the others stay")
    func socketLimit() async throws {
        try await withTinyBMS(.test(quirks: [.tinyBMSSocketLimit])) { (simulator, _) async throws in
            let oldest = try await openSocket(simulator, "/ws/telemetry")
            let talking = try await openSocket(simulator, "/ws/alerts")
            let newest = try await openSocket(simulator, "/ws/events")
            // The oldest socket pings, so it is no longer the least recently used one.
            oldest.send(#"{"type":"ping"}"#)
            try await eventually("the ping to arrive") { simulator.state.jsonPingsReceived == 1 }
            #expect(simulator.openBrowserTabs(4) == 0, "3 sockets + 4 tabs = 7: no eviction")
            #expect(simulator.openBrowserTabs(1) == 1)
            let ending = try await talking.end()
            guard case .closedByServer(let code, _) = ending else {
                Issue.record("expected the server to close the socket: \(ending)")
                return
            }
            #expect(code == .goingAway)
            #expect(oldest.ending == nil && newest.ending == nil)
            #expect(simulator.state.evictions == 1)

            // A new socket while full evicts the least recently used one again, not itself.
            let incoming = try await openSocket(simulator, "/ws/alerts")
            _ = try await newest.end()
            #expect(incoming.ending == nil)
            simulator.closeBrowserTabs()
            try await oldest.close()
            try await incoming.close()
        }
    }

    @Test("without the socket limit, tabs evict nothing; the eviction hook still closes the least recently used socket")
    func noSocketLimit() async throws {
        try await withTinyBMS { (simulator, _) async throws in
            let first = try await openSocket(simulator, "/ws/telemetry")
            let second = try await openSocket(simulator, "/ws/events")
            #expect(simulator.openBrowserTabs(10) == 0)
            #expect(simulator.evictLeastRecentlyUsedSocket() == "/ws/telemetry")
            _ = try await first.end()
            #expect(second.ending == nil)
            try await second.close()
        }
    }

    @Test("restart fallback: the BMS does not answer, the gateway restarts instead: 202 with gateway_restart true")
    func restartFallback() async throws {
        try await withTinyBMS(.test(quirks: [.tinyBMSRestartFallback]), keepAlive: false) { (simulator, http) async throws in
            let answer = try await http.post("/api/system/restart", body: #"{"target":"bms","delay_ms":0}"#)
            #expect(answer.status == 202)
            #expect(answer.json == ["status": "scheduled", "bms_attempted": true, "bms_status": "timeout", "gateway_restart": true, "delay_ms": 0])
            try await eventually("the gateway to go down") { simulator.state.gatewayRebooting }
            try await simulator.finishRestart()
            #expect(try await http.get("/api/status").status == 200)
        }
    }

    @Test("the deployed-firmware switch holds the four permanent quirks")
    func deployedSwitch() {
        #expect(TinyBMSSimulator.deployedFirmwareQuirks == [
            .tinyBMSWrappedTelemetry, .tinyBMSNoJSONPing, .tinyBMSPlainTextErrors, .tinyBMSSocketLimit,
        ])
    }
}
