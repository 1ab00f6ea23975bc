import Foundation
import Testing

@testable import BridgeCore

/// `Mappings/ocpp_csms.yaml` against documents the OCPP CSMS simulator served (`connectors` as
/// the adapter builds it from `/chp` and `/transactions/active`): the documented shape
/// (`connectors.json`) and the real server's (`connectors-real.json`: idle transaction id -1,
/// zero meter fields omitted, a `session_event`).
@Suite("The OCPP CSMS mapping")
struct OCPPCSMSMappingTests {
    static let source = "ocpp_csms"

    static func mapping() throws -> MappingFile {
        let path = "\(MappingsDirectory.mappings)/ocpp_csms.yaml"
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
        return try MappingLoader.load(yaml: yaml, file: path)
    }

    static func fixture(_ name: String) throws -> JSONValue {
        try #require(try MappingsDirectory.fixture(source: source, endpoint: name), "no fixture \(name)")
    }

    /// Runs the mapping over a document (a fixture's by default); issues are test failures.
    static func read(
        _ endpoint: String, fixture name: String? = nil, _ document: JSONValue? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MappingOutput {
        let document = try document ?? fixture(name ?? endpoint)
        let output = MappingEngine().readings(endpoint: endpoint, document: document, mapping: try mapping())
        #expect(output.issues.map(\.description) == [], sourceLocation: sourceLocation)
        return output
    }

    static func value(_ output: MappingOutput, _ entity: String, _ child: String) -> String? {
        output.reading(entity, child: child)?.value.rendered
    }

    /// One connector item: the API's Connector object plus `session`.
    static func connector(
        _ point: String = "CP9", _ id: Int = 1, status: String, transaction: Int = 0, session: String = "null"
    ) throws -> JSONValue {
        try JSONValue(
            parsing: """
                [{"charge_point_id": "\(point)", "connector_id": \(id), "status": "\(status)", "error_code": "",
                  "power": 22000, "current_transaction_id": \(transaction), "session": \(session)}]
                """)
    }

    @Test("Loads, lints clean and reads only account, charge_points and connectors")
    func loadsAndLints() throws {
        let mapping = try Self.mapping()
        #expect(mapping.source == "ocpp_csms")
        #expect(MappingLinter.lint(mapping).map(\.description) == [])
        #expect(mapping.endpoints == ["account", "charge_points", "connectors"])
    }

    @Test("The CSMS's own device shows the bridge's account and role")
    func account() throws {
        let output = try Self.read("account")
        #expect(output.children.isEmpty)
        #expect(output.reading("account")?.value == .string("bridge@example.com"))
        #expect(output.reading("account_role")?.value == .string("user"))
    }

    @Test("Each charge point is a device under the CSMS: title, vendor, model, serial, firmware; online, status, error code")
    func chargePoints() throws {
        let output = try Self.read("charge_points")
        #expect(output.children.map(\.id) == ["cp001", "cp002", "cp003"])
        let first = try #require(output.children.first)
        #expect(first.name == "Garage left")
        #expect(first.kind == "charge_point")
        #expect(first.parentID == nil)
        #expect(first.device[.manufacturer] == "Alfen")
        #expect(first.device[.model] == "Eve Double Pro-line")
        #expect(first.device[.serialNumber] == "ALF-0001")
        #expect(first.device[.swVersion] == "6.4.0")
        #expect(Self.value(output, "online", "cp001") == "ON")
        #expect(Self.value(output, "online", "cp003") == "OFF", "an offline charge point is a value, off")
        #expect(Self.value(output, "status", "cp002") == "Available")
        #expect(Self.value(output, "error_code", "cp001") == "NoError")
        #expect(Self.value(output, "enabled", "cp001") == "ON")
    }

    @Test("The document's empty error code reads as NoError, an empty status as unknown")
    func emptyCodes() throws {
        let document = try JSONValue(
            parsing: #"[{"charge_point_id": "CP9", "title": "X", "is_online": true, "is_enabled": false, "status": "", "error_code": ""}]"#)
        let output = try Self.read("charge_points", document)
        #expect(Self.value(output, "error_code", "cp9") == "NoError")
        #expect(Self.value(output, "status", "cp9") == "None")
        #expect(Self.value(output, "enabled", "cp9") == "OFF")
    }

    @Test("Each connector is a device under its charge point, keyed by both ids", arguments: ["connectors", "connectors-real"])
    func connectorDevices(fixture: String) throws {
        let output = try Self.read("connectors", fixture: fixture)
        #expect(output.children.map(\.id) == ["cp001_1", "cp001_2", "cp002_1", "cp003_1", "cp003_2"])
        let connector = try #require(output.children.first)
        #expect(connector.parentID == "cp001")
        #expect(connector.kind == "connector")
        #expect(connector.key == ["charge_point_id": "CP001", "connector_id": 1])
        #expect(connector.name.contains("CP001"), "\(connector.name)")
    }

    @Test("A charging connector: status, charging, live power from the session (not the rated power), energy, duration, price, id tag, register",
        arguments: ["connectors", "connectors-real"])
    func chargingConnector(fixture: String) throws {
        let document = try Self.fixture(fixture)
        let item = try #require(document.arrayValue?.first)
        let session = try #require(item["session"])
        let output = try Self.read("connectors", document)
        #expect(Self.value(output, "connector_status", "cp001_1") == "Charging")
        #expect(Self.value(output, "charging", "cp001_1") == "ON")
        let power = try #require(session["power_rate"]?.numberValue)
        #expect(power > 0 && power != 22000)
        #expect(Self.value(output, "power", "cp001_1") == JSONValue.format(power))
        let consumed = try #require(session["consumed"]?.numberValue)
        #expect(output.reading("session_energy", child: "cp001_1")?.value == .number(consumed / 1000, precision: 3))
        #expect(Self.value(output, "session_duration", "cp001_1") == JSONValue.format(try #require(session["duration"]?.numberValue)))
        let price = try #require(session["price"]?.numberValue)
        #expect(output.reading("session_price", child: "cp001_1")?.value == .number(price / 100, precision: 2))
        #expect(Self.value(output, "id_tag", "cp001_1") == "TAG001")
        let register = try #require(session["meter_values"]?.arrayValue?.last?["value"]?.numberValue)
        #expect(output.reading("energy_register", child: "cp001_1")?.value == .number(register / 1000, precision: 3))
    }

    @Test("An idle connector: 0 W and not charging; its rated power is never read; session values hold",
        arguments: ["connectors", "connectors-real"])
    func idleConnector(fixture: String) throws {
        let output = try Self.read("connectors", fixture: fixture)
        #expect(Self.value(output, "connector_status", "cp001_2") == "Available")
        #expect(Self.value(output, "charging", "cp001_2") == "OFF")
        #expect(Self.value(output, "power", "cp001_2") == "0")
        #expect(output.reading("session_energy", child: "cp001_2") == nil, "no session: the last session's value holds")
        #expect(output.reading("energy_register", child: "cp001_2") == nil)
        #expect(Self.value(output, "connector_error_code", "cp001_2") == "NoError")
    }

    @Test("Charging without a session of this account (another account's tag): power unknown, not 0")
    func otherAccountsSession() throws {
        let output = try Self.read("connectors", try Self.connector(status: "Charging", transaction: 77))
        #expect(Self.value(output, "charging", "cp9_1") == "ON")
        #expect(Self.value(output, "power", "cp9_1") == "None")
    }

    @Test("Every OCPP 1.6 status is an option and maps to charging on/off", arguments: [
        ("Available", "OFF"), ("Preparing", "OFF"), ("Charging", "ON"), ("SuspendedEVSE", "OFF"), ("SuspendedEV", "OFF"),
        ("Finishing", "OFF"), ("Reserved", "OFF"), ("Unavailable", "OFF"), ("Faulted", "OFF"),
    ])
    func statuses(status: String, charging: String) throws {
        let output = try Self.read("connectors", try Self.connector(status: status))
        #expect(Self.value(output, "connector_status", "cp9_1") == status)
        #expect(Self.value(output, "charging", "cp9_1") == charging)
        let options = try #require(try Self.mapping().entities.first { $0.id == "connector_status" }?.options)
        #expect(options.contains(status))
    }

    @Test("Session start and stop are events, only in the document that carries session_event")
    func sessionEvents() throws {
        let real = try Self.read("connectors", fixture: "connectors-real")
        let event = try #require(real.reading("session", child: "cp001_1"))
        #expect(event.value == .string("started"))
        #expect(event.attributes?["transaction_id"] == JSONValue.number(1001))
        #expect(real.reading("session", child: "cp001_2") == nil)
        let plain = try Self.read("connectors", fixture: "connectors")
        #expect(plain.readings.filter { $0.entityID == "session" }.isEmpty, "no session_event, no event")
        let stopped = try Self.read(
            "connectors",
            try JSONValue(
                parsing: #"[{"charge_point_id": "CP9", "connector_id": 1, "status": "Finishing", "session": null, "session_event": {"type": "stopped", "transaction_id": 5}}]"#))
        #expect(stopped.reading("session", child: "cp9_1")?.value == .string("stopped"))
    }

    @Test("Commands are adapter actions on the right child kind", arguments: [
        ("start_charging", "start_charging", "connector"), ("stop_charging", "stop_charging", "connector"),
        ("unlock_connector", "unlock_connector", "connector"), ("reset", "reset_soft", "charge_point"),
        ("reset_hard", "reset_hard", "charge_point"), ("enabled", "set_enabled", "charge_point"),
    ])
    func commands(id: String, action: String, kind: String) throws {
        let command = try #require(try Self.mapping().command(id))
        #expect(command.target == .action(action))
        #expect(command.child?.kind == kind)
    }

    @Test("Buttons take only PRESS; the enabled switch takes ON/OFF")
    func commandPayloads() throws {
        let mapping = try Self.mapping()
        let start = try #require(mapping.command("start_charging"))
        #expect(throws: Never.self) { try start.prepare(JSONValue(mqttPayload: "PRESS")).get() }
        #expect((try? start.prepare(JSONValue(mqttPayload: "GO")).get()) == nil)
        let enabled = try #require(mapping.command("enabled"))
        #expect((try? enabled.prepare(JSONValue(mqttPayload: "OFF")).get()) != nil)
        #expect((try? enabled.prepare(JSONValue(mqttPayload: "maybe")).get()) == nil)
    }

    @Test("Every fixture reads without issues", arguments: ["charge_points", "charge_points-real", "connectors", "connectors-real"])
    func fixturesRead(name: String) throws {
        let endpoint = name.hasPrefix("charge_points") ? "charge_points" : "connectors"
        let output = try Self.read(endpoint, fixture: name)
        #expect(!output.readings.isEmpty)
    }
}
