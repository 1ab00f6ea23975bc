import Foundation
import Testing

@testable import BridgeCore

/// `Mappings/tinybms.yaml` against documents captured from the TinyBMS simulator as the adapter delivers
/// them: the documented `battery_data` telemetry (mV, mA, cells[]) and deployed firmware's SI `battery`
/// telemetry (V, A, cell_voltage_mv[]), both with the adapter's `derived` member.
@Suite("The TinyBMS mapping")
struct TinyBMSMappingTests {
    static let source = "tinybms"

    static func mapping() throws -> MappingFile {
        let path = "\(MappingsDirectory.mappings)/tinybms.yaml"
        return try MappingLoader.load(yaml: try String(contentsOfFile: path, encoding: .utf8), file: path)
    }

    static func fixture(_ name: String) throws -> JSONValue {
        try #require(try MappingsDirectory.fixture(source: source, endpoint: name), "no fixture \(name)")
    }

    /// Maps a document as `endpoint`; a document that does not fit is an issue.
    static func read(
        _ endpoint: String, _ document: JSONValue, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MappingOutput {
        let output = MappingEngine().readings(endpoint: endpoint, document: document, mapping: try mapping())
        #expect(output.issues.map(\.description) == [], sourceLocation: sourceLocation)
        return output
    }

    static func number(_ output: MappingOutput, _ id: String) -> Double? {
        output.reading(id)?.value.numberValue
    }

    static func close(_ a: Double?, _ b: Double?, within tolerance: Double = 1e-6) -> Bool {
        guard let a, let b else { return false }
        return abs(a - b) <= tolerance
    }

    static func call(_ id: String, _ payload: String) throws -> Result<RenderedCall, ValidationFailure> {
        let command = try #require(try mapping().command(id), "no command \(id)")
        guard case .call(let call) = command.target else {
            Issue.record("command \(id) has no call")
            return .failure(ValidationFailure(message: "no call"))
        }
        return command.prepare(JSONValue(mqttPayload: payload)).map { call.rendered(value: $0) }
    }

    // MARK: - The file

    @Test("Loads, lints clean and reads only endpoints the tinybms adapter delivers")
    func loadsAndLints() throws {
        let mapping = try Self.mapping()
        #expect(mapping.source == "tinybms")
        #expect(MappingLinter.lint(mapping).map(\.description) == [])
        #expect(
            mapping.endpoints.isSubset(of: [
                "telemetry", "status", "alerts", "alert_event", "event", "alert_statistics", "alert_config", "runtime", "can",
                "mqtt", "event_bus",
            ]))
        #expect(mapping.endpoints.contains("telemetry") && mapping.endpoints.contains("alert_event"))
    }

    @Test("Ids are snake_case and unique")
    func ids() throws {
        let mapping = try Self.mapping()
        let ids = mapping.entities.map(\.id) + mapping.commands.map(\.id)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.wholeMatch(of: /[a-z][a-z0-9_]*/) != nil, "\(id) is not snake_case")
        }
    }

    // MARK: - Telemetry, both shapes

    @Test("Documented telemetry: mV → V, mA → A, derived power, 16 cells with balancing, protection flags")
    func documentedTelemetry() throws {
        let document = try Self.fixture("telemetry")
        let output = try Self.read("telemetry", document)
        let millivolts = try #require(document["voltage_mv"]?.numberValue)
        let milliamps = try #require(document["current_ma"]?.numberValue)
        #expect(Self.close(Self.number(output, "pack_voltage"), (millivolts / 10).rounded() / 100))
        #expect(Self.close(Self.number(output, "pack_current"), (milliamps / 10).rounded() / 100))
        #expect(Self.close(Self.number(output, "power"), (millivolts * milliamps / 1e6).rounded(), within: 0.51))
        #expect(Self.number(output, "state_of_charge") == document["soc_percent"]?.numberValue)
        #expect(Self.number(output, "temperature") == document["temperature_c"]?.numberValue)
        let cells = try #require(document["cells"]?.arrayValue)
        #expect(cells.count == 16)
        for (index, cell) in cells.enumerated() {
            let id = String(format: "cell_%02d", index + 1)
            #expect(Self.close(Self.number(output, "\(id)_voltage"), (cell["voltage_mv"]?.numberValue ?? 0) / 1000), "\(id)")
            #expect(output.reading("\(id)_balancing")?.value == .bool(cell["balancing"]?.boolValue ?? false), "\(id)")
        }
        let voltages = cells.compactMap { $0["voltage_mv"]?.numberValue }
        #expect(Self.close(Self.number(output, "cell_voltage_min"), (voltages.min() ?? 0) / 1000))
        #expect(Self.close(Self.number(output, "cell_voltage_max"), (voltages.max() ?? 0) / 1000))
        #expect(Self.number(output, "cell_voltage_delta") == (voltages.max() ?? 0) - (voltages.min() ?? 0))
        #expect(output.reading("protection_ov")?.value == .bool(false))
        #expect(output.reading("protection_temp_high") != nil)
        #expect(["charging", "discharging", "idle"].contains(output.reading("battery_status")?.value.rendered ?? ""))
        // Only the deployed shape has these.
        #expect(output.reading("energy_charged") == nil && output.reading("cycle_count") == nil)
    }

    @Test("Deployed SI telemetry maps to the same entities, plus energy, cycles and alarm bits decoded")
    func deployedTelemetry() throws {
        let document = try Self.fixture("telemetry_deployed")
        let output = try Self.read("telemetry", document)
        #expect(Self.close(Self.number(output, "pack_voltage"), ((document["pack_voltage_v"]?.numberValue ?? 0) * 100).rounded() / 100))
        #expect(Self.number(output, "pack_current") == document["pack_current_a"]?.numberValue)
        #expect(Self.close(Self.number(output, "power"), (document["power_w"]?.numberValue ?? 0).rounded()))
        #expect(Self.number(output, "state_of_charge") == document["state_of_charge_pct"]?.numberValue)
        #expect(Self.number(output, "temperature") == document["average_temperature_c"]?.numberValue)
        let cells = try #require(document["cell_voltage_mv"]?.arrayValue)
        let balancing = try #require(document["cell_balancing"]?.arrayValue)
        for index in 0..<16 {
            let id = String(format: "cell_%02d", index + 1)
            #expect(Self.close(Self.number(output, "\(id)_voltage"), (cells[index].numberValue ?? 0) / 1000), "\(id)")
            #expect(output.reading("\(id)_balancing")?.value == .bool(balancing[index].numberValue == 1), "\(id)")
        }
        #expect(Self.close(Self.number(output, "cell_voltage_min"), (document["min_cell_mv"]?.numberValue ?? 0) / 1000))
        #expect(Self.close(Self.number(output, "cell_voltage_max"), (document["max_cell_mv"]?.numberValue ?? 0) / 1000))
        #expect(Self.close(Self.number(output, "energy_charged"), document["energy_charged_kwh"]?.numberValue))
        #expect(Self.close(Self.number(output, "energy_discharged"), document["energy_discharged_kwh"]?.numberValue))
        #expect(Self.number(output, "cycle_count") == document["cycle_count"]?.numberValue)
        #expect(output.reading("protection_ov")?.value == .bool(false))

        // alarm_bits decoded by the adapter: bit 4 is temp_high.
        var hot = try #require(document.objectValue)
        hot["derived"] = ["protection": ["ov": false, "uv": false, "oc_charge": false, "oc_discharge": false, "temp_high": true, "temp_low": false]]
        let flagged = try Self.read("telemetry", .object(hot))
        #expect(flagged.reading("protection_temp_high")?.value == .bool(true))
        #expect(flagged.reading("protection_uv")?.value == .bool(false))
        // Firmware without power_w: the adapter's derived V × A.
        hot["power_w"] = nil
        hot["derived"] = ["power_w": -812.4]
        #expect(Self.number(try Self.read("telemetry", .object(hot)), "power") == -812)
    }

    @Test("Energy counters are kWh, total_increasing; cell voltages V with 3 decimals; delta in mV")
    func units() throws {
        let mapping = try Self.mapping()
        for id in ["energy_charged", "energy_discharged"] {
            let entity = try #require(mapping.entity(id))
            #expect(entity.deviceClass == "energy" && entity.unit == "kWh" && entity.stateClass == .totalIncreasing)
        }
        for index in 1...16 {
            let entity = try #require(mapping.entity(String(format: "cell_%02d_voltage", index)))
            #expect(entity.unit == "V" && entity.precision == 3)
        }
        #expect(mapping.entity("cell_voltage_delta")?.unit == "mV")
        #expect(mapping.entity("pack_voltage")?.unit == "V" && mapping.entity("pack_current")?.unit == "A")
        #expect(mapping.entity("power")?.unit == "W" && mapping.entity("temperature")?.unit == "°C")
        for flag in ["ov", "uv", "oc_charge", "oc_discharge", "temp_high", "temp_low"] {
            #expect(mapping.entity("protection_\(flag)")?.deviceClass == "problem")
        }
    }

    @Test("The /api/status battery summary (polled while the socket is down) maps pack values too")
    func statusBattery() throws {
        let status = try Self.fixture("status")
        let battery = try #require(status["battery"])
        let output = try Self.read("telemetry", battery)
        #expect(Self.close(Self.number(output, "pack_voltage"), ((battery["voltage_mv"]?.numberValue ?? 0) / 10).rounded() / 100))
        #expect(output.reading("cell_01_voltage") == nil)
        let diagnostics = try Self.read("status", status)
        #expect(Self.close(Self.number(diagnostics, "uptime"), ((status["uptime_ms"]?.numberValue ?? 0) / 1000).rounded()))
        #expect(diagnostics.reading("mqtt_connected")?.value == .bool(status["mqtt"]?["connected"]?.boolValue ?? false))
        // Deployed firmware's /api/status has only the battery: nothing to map, and no issue.
        _ = try Self.read("status", try Self.fixture("status_deployed"))
    }

    // MARK: - Alerts and events

    @Test("Active alerts: the count, with the list as attributes; a new alert fires an event typed by severity")
    func alerts() throws {
        let list: JSONValue = [
            "alerts": [["alert_id": 3, "type": 1, "severity": 2, "status": 0, "message": "Température élevée", "timestamp_ms": 1_765_000_100_000]],
            "count": 1,
        ]
        let output = try Self.read("alerts", list)
        #expect(Self.number(output, "active_alerts") == 1)
        #expect(output.reading("active_alerts")?.attributes?["alerts"]?.arrayValue?.count == 1)
        #expect(Self.number(try Self.read("alerts", try Self.fixture("alerts")), "active_alerts") == 0)

        for (severity, type) in [(0, "info"), (1, "warning"), (2, "critical")] {
            let message: JSONValue = [
                "type": "alert",
                "alert": ["alert_id": 7, "type": 4, "severity": .number(Double(severity)), "status": 0, "message": "x", "timestamp_ms": 1],
            ]
            let event = try Self.read("alert_event", message)
            #expect(event.reading("alert")?.value == .string(type))
            #expect(event.reading("alert")?.attributes?["alert_id"] == .number(7))
        }
        let system: JSONValue = ["type": "system_event", "event": "MQTT_DISCONNECTED", "timestamp_ms": 5, "data": ["reason": "x"]]
        #expect(try Self.read("event", system).reading("system_event")?.value == .string("MQTT_DISCONNECTED"))
    }

    @Test("Diagnostics from runtime, CAN, MQTT, alert statistics and event bus documents")
    func diagnostics() throws {
        let runtime = try Self.fixture("runtime")
        #expect(Self.number(try Self.read("runtime", runtime), "cpu_usage") == runtime["cpu_usage_percent"]?.numberValue)
        let can = try Self.fixture("can")
        let canOutput = try Self.read("can", can)
        #expect(canOutput.reading("can_state")?.value == .string(can["state"]?.stringValue ?? ""))
        #expect(Self.number(canOutput, "can_messages_sent") == can["messages_sent"]?.numberValue)
        let mqtt = try Self.fixture("mqtt")
        #expect(try Self.read("mqtt", mqtt).reading("mqtt_connected")?.value == .bool(mqtt["connected"]?.boolValue ?? false))
        let statistics = try Self.fixture("alert_statistics")
        #expect(Self.number(try Self.read("alert_statistics", statistics), "alerts_total") == statistics["total_alerts"]?.numberValue)
        _ = try Self.read("event_bus", try Self.fixture("event_bus"))
    }

    // MARK: - Commands

    @Test("Thresholds POST only their field; cell voltages in V are sent in mV; out of range is refused")
    func thresholds() throws {
        let temperature = try Self.call("temperature_max_threshold", "50").get()
        #expect(temperature.method == "POST" && temperature.path == "/api/alerts/config")
        #expect(temperature.body == ["temperature_max_c": 50])
        let cell = try Self.call("cell_voltage_max_threshold", "3.6").get()
        #expect(cell.body == ["cell_voltage_max_mv": 3600])
        #expect(try Self.call("alert_debounce", "120").get().body == ["debounce_sec": 120])
        #expect(try Self.call("temperature_high_alert", "OFF").get().body == ["temp_high_enabled": false])
        for (id, payload) in [
            ("temperature_max_threshold", "150"), ("temperature_min_threshold", "-41"), ("cell_voltage_max_threshold", "4.6"),
            ("cell_voltage_min_threshold", "1.9"), ("alert_debounce", "3601"), ("alert_debounce", "1.5"),
            ("temperature_high_alert", "maybe"),
        ] {
            guard case .failure = try Self.call(id, payload) else {
                Issue.record("\(id) accepted \(payload)")
                continue
            }
        }
    }

    @Test("Alert config state: thresholds read back, cell thresholds in V")
    func alertConfigState() throws {
        let config = try Self.fixture("alert_config")
        let output = try Self.read("alert_config", config)
        #expect(Self.number(output, "temperature_max_threshold") == config["temperature_max_c"]?.numberValue)
        #expect(Self.close(Self.number(output, "cell_voltage_max_threshold"), (config["cell_voltage_max_mv"]?.numberValue ?? 0) / 1000))
        #expect(output.reading("alerts_enabled")?.value == .bool(config["enabled"]?.boolValue ?? false))
    }

    @Test("Buttons and the alert id command run the adapter's actions")
    func actions() throws {
        let mapping = try Self.mapping()
        let expected = [
            "acknowledge_all_alerts": "acknowledge_all_alerts", "acknowledge_alert": "acknowledge_alert",
            "clear_alert_history": "clear_alert_history", "restart_bms": "restart_bms", "restart_gateway": "restart_gateway",
        ]
        for (id, action) in expected {
            let command = try #require(mapping.command(id), "\(id)")
            guard case .action(let name)? = command.target else {
                Issue.record("\(id) is not an action")
                continue
            }
            #expect(name == action)
        }
        let acknowledge = try #require(mapping.command("acknowledge_alert"))
        guard case .success(let id) = acknowledge.prepare(JSONValue(mqttPayload: "5")) else {
            Issue.record("alert id 5 refused")
            return
        }
        #expect(id == .number(5))
        guard case .failure = acknowledge.prepare(JSONValue(mqttPayload: "0")) else {
            Issue.record("alert id 0 accepted")
            return
        }
        #expect(mapping.command("restart_bms")?.component == .button)
    }
}
