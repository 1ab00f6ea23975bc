import Foundation
import Testing

@testable import BridgeCore

/// `Mappings/flowerhub.yaml` against documents the FlowerHub simulator served
/// (`Fixtures/flowerhub/`), and the shapes the real portal sends besides (FIELD-NOTES).
@Suite("The FlowerHub mapping")
struct FlowerHubMappingTests {
    static let source = "flowerhub"
    static let endpoints: Set<String> = [
        "asset", "uptime", "uptime_history", "uptime_months", "asset_owner", "agreement", "invoices", "consumption", "profile",
    ]

    static func mapping() throws -> MappingFile {
        let path = "\(MappingsDirectory.mappings)/flowerhub.yaml"
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
        return try MappingLoader.load(yaml: yaml, file: path)
    }

    static func fixture(_ endpoint: String) throws -> JSONValue {
        try #require(try MappingsDirectory.fixture(source: source, endpoint: endpoint), "no fixture for \(endpoint)")
    }

    /// Runs the mapping over a document; an issue fails the test unless `issues` allows it.
    static func read(
        _ endpoint: String, _ document: JSONValue? = nil, expectIssues: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MappingOutput {
        let document = try document ?? fixture(endpoint)
        let output = MappingEngine().readings(endpoint: endpoint, document: document, mapping: try mapping())
        if !expectIssues {
            #expect(output.issues.map(\.description) == [], sourceLocation: sourceLocation)
        }
        return output
    }

    static func rendered(_ output: MappingOutput) -> [String: String] {
        Dictionary(output.readings.map { ($0.entityID, $0.value.rendered) }, uniquingKeysWith: { first, _ in first })
    }

    /// A fixture with one member of an object replaced (`path` is a chain of object keys).
    static func replacing(_ document: JSONValue, _ path: [String], with value: JSONValue) -> JSONValue {
        guard let key = path.first, case .object(var members) = document else { return document }
        members[key] = path.count == 1 ? value : replacing(members[key] ?? .object([:]), Array(path.dropFirst()), with: value)
        return .object(members)
    }

    // MARK: - The file

    @Test("Loads, lints clean, reads only the nine endpoints the adapter serves, has no command")
    func loadsAndLints() throws {
        let mapping = try Self.mapping()
        #expect(mapping.source == "flowerhub")
        #expect(MappingLinter.lint(mapping).map(\.description) == [])
        #expect(mapping.endpoints == Self.endpoints)
        #expect(mapping.commands.isEmpty)
        let ids = mapping.entities.map(\.id)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.wholeMatch(of: /[a-z][a-z0-9_]*/) != nil, "\(id) is not snake_case")
        }
    }

    @Test("Every fixture reads without issues", arguments: ["asset", "uptime", "uptime_history", "uptime_months", "asset_owner", "agreement", "invoices", "consumption", "profile"])
    func fixtureReads(endpoint: String) throws {
        let output = try Self.read(endpoint)
        #expect(!output.readings.isEmpty)
    }

    // MARK: - Device and status

    @Test("The device is the battery system of the asset owner's asset; no name from a document")
    func device() throws {
        let output = try Self.read("asset_owner")
        #expect(output.device == [.manufacturer: "Flower", .model: "FlowerHub Home 10", .serialNumber: "FH-2024-000123"])
        #expect(try Self.mapping().device.fields[.name] == nil)
        let values = Self.rendered(output)
        #expect(values["compensation"] == "Qualified")
        #expect(values["installer"] == "Solkraft Installation AB")
    }

    @Test("Connected and Disconnected are the connectivity sensor; the status and message are text")
    func connectivity() throws {
        let asset = try Self.fixture("asset")
        let connected = Self.rendered(try Self.read("asset", Self.replacing(asset, ["flowerHubStatus", "status"], with: "Connected")))
        #expect(connected["connected"] == "ON")
        #expect(connected["status"] == "Connected")
        #expect(connected["status_message"] == asset["flowerHubStatus"]?["message"]?.stringValue)
        let down = Self.rendered(try Self.read("asset", Self.replacing(asset, ["flowerHubStatus", "status"], with: "Disconnected")))
        #expect(down["connected"] == "OFF")
        #expect(down["status"] == "Disconnected")
        let mapping = try Self.mapping()
        #expect(mapping.entity("connected")?.deviceClass == "connectivity")
        #expect(mapping.entity("connected")?.entityCategory == nil)
    }

    @Test("An undocumented status is not guessed: no connectivity value, an issue, the text shows it")
    func unknownStatus() throws {
        let asset = Self.replacing(try Self.fixture("asset"), ["flowerHubStatus", "status"], with: "Maintenance")
        let output = try Self.read("asset", asset, expectIssues: true)
        let values = Self.rendered(output)
        #expect(values["connected"] == nil)
        #expect(values["status"] == "Maintenance")
        #expect(output.issues.count == 1)
    }

    @Test("Inverter and battery specifications carry kW, kWh and A and no state class")
    func specifications() throws {
        let values = Self.rendered(try Self.read("asset"))
        #expect(values["inverter_power"] == "10")
        #expect(values["battery_power"] == "10")
        #expect(values["battery_capacity"] == "12.8")
        #expect(values["fuse_size"] == "20")
        #expect(values["inverter_model"] == "SH10RT")
        #expect(values["inverter_manufacturer"] == "Sungrow")
        #expect(values["battery_model"] == "SBR128")
        #expect(values["battery_manufacturer"] == "Sungrow")
        #expect(values["installed"] == "ON")
        let mapping = try Self.mapping()
        let units: [String: (String, String)] = [
            "inverter_power": ("power", "kW"), "battery_power": ("power", "kW"),
            "battery_capacity": ("energy_storage", "kWh"), "fuse_size": ("current", "A"),
        ]
        for (id, expected) in units {
            let entity = try #require(mapping.entity(id))
            #expect(entity.deviceClass == expected.0, "\(id)")
            #expect(entity.unit == expected.1, "\(id)")
            #expect(entity.stateClass == nil, "\(id)")
            #expect(entity.entityCategory == .diagnostic, "\(id)")
        }
    }

    // MARK: - Uptime

    @Test("This month's uptime is the history's last ratio, in %; the pie's seconds are hours")
    func uptime() throws {
        let history = try Self.fixture("uptime_history")
        let last = try #require(history.arrayValue?.last?["uptime"]?.numberValue)
        let values = Self.rendered(try Self.read("uptime_history"))
        #expect(values["uptime_month"] == JSONValue.format(last))
        let pie: JSONValue = MappingTestSupport.json(
            #"[{"name": "uptime", "value": 540000}, {"name": "downtime", "value": 1800}, {"name": "noData", "value": 0}]"#)
        let hours = Self.rendered(try Self.read("uptime", pie))
        #expect(hours["uptime_hours"] == "150")
        #expect(hours["downtime_hours"] == "0.5")
        #expect(hours["no_data_hours"] == "0")
        // The same names in another order read the same.
        let shuffled: JSONValue = MappingTestSupport.json(
            #"[{"name": "noData", "value": 3600}, {"name": "uptime", "value": 7200}, {"name": "downtime", "value": 0}]"#)
        let other = Self.rendered(try Self.read("uptime", shuffled))
        #expect(other["uptime_hours"] == "2")
        #expect(other["no_data_hours"] == "1")
        let mapping = try Self.mapping()
        #expect(mapping.entity("uptime_month")?.unit == "%")
        #expect(mapping.entity("uptime_hours")?.unit == "h")
        let months = Self.rendered(try Self.read("uptime_months"))
        #expect(months["uptime_period"] == (try Self.fixture("uptime_months")).arrayValue?.last?["value"]?.stringValue)
    }

    // MARK: - Consumption

    @Test("This month's consumption is total_increasing kWh; last month's is a finished value")
    func consumption() throws {
        let readings = try #require(try Self.fixture("consumption").arrayValue)
        let values = Self.rendered(try Self.read("consumption"))
        let current = try #require(readings.last?["volume"]?.stringValue.flatMap(Double.init))
        let previous = try #require(readings.dropLast().last?["volume"]?.stringValue.flatMap(Double.init))
        #expect(values["consumption_month"] == JSONValue.format(current))
        #expect(values["consumption_last_month"] == JSONValue.format(previous))
        let mapping = try Self.mapping()
        #expect(mapping.entity("consumption_month")?.stateClass == .totalIncreasing)
        #expect(mapping.entity("consumption_month")?.unit == "kWh")
        #expect(mapping.entity("consumption_month")?.deviceClass == "energy")
        #expect(mapping.entity("consumption_last_month")?.stateClass == nil)
    }

    @Test("A volume sent as a number (the contract allows string or number) reads the same")
    func consumptionAsNumbers() throws {
        let document: JSONValue = MappingTestSupport.json(
            #"[{"site_id": "1", "valid_from": "2026-11-01", "valid_to": "2026-11-30", "invoiced_month": "2026-11-01", "volume": 393.5, "type": "Reading", "type_id": 1},"#
                + #" {"site_id": "1", "valid_from": "2026-12-01", "valid_to": null, "invoiced_month": "2026-12-01", "volume": 41.257, "type": "Calculated", "type_id": 2}]"#)
        let values = Self.rendered(try Self.read("consumption", document))
        #expect(values["consumption_month"] == "41.26")
        #expect(values["consumption_last_month"] == "393.5")
        let strings: JSONValue = MappingTestSupport.json(
            #"[{"volume": "393.50"}, {"volume": "41.26"}]"#)
        let same = Self.rendered(try Self.read("consumption", strings))
        #expect(same["consumption_month"] == "41.26")
        #expect(same["consumption_last_month"] == "393.5")
    }

    // MARK: - Invoices and agreement

    @Test("The latest invoice (the first) gives the amounts in SEK, its status, period and due date")
    func invoices() throws {
        let invoices = try #require(try Self.fixture("invoices").arrayValue)
        let latest = try #require(invoices.first)
        let values = Self.rendered(try Self.read("invoices"))
        let total = try #require(latest["total_amount"]?.stringValue.flatMap(Double.init))
        #expect(values["invoice_amount"] == JSONValue.format(total))
        #expect(values["invoice_status"] == latest["invoice_status"]?.stringValue)
        #expect(values["invoice_period"] == latest["invoice_period"]?.stringValue)
        #expect(values["invoice_due"] == latest["due_date"]?.stringValue)
        let mapping = try Self.mapping()
        for id in ["invoice_amount", "invoice_remaining"] {
            #expect(mapping.entity(id)?.deviceClass == "monetary")
            #expect(mapping.entity(id)?.unit == "SEK")
        }
        #expect(mapping.entity("invoice_due")?.deviceClass == "timestamp")
        // No invoice yet (a new customer): nothing to read, no invented amount.
        let none = try Self.read("invoices", .array([]), expectIssues: true)
        #expect(Self.rendered(none)["invoice_amount"] == nil || Self.rendered(none)["invoice_amount"] == "None")
    }

    @Test("Agreement states and dates; a null termination date is unknown, a set one a timestamp")
    func agreement() throws {
        let values = Self.rendered(try Self.read("agreement"))
        #expect(values["agreement_consumption"] == "Active")
        #expect(values["agreement_production"] == "Active")
        #expect(values["agreement_consumption_start"] == "2025-02-01T00:00:00.000Z")
        #expect(values["agreement_production_start"] == "2025-03-01T00:00:00.000Z")
        #expect(values["agreement_consumption_end"] == "None")
        let ended = Self.replacing(try Self.fixture("agreement"), ["consumption", "terminationDate"], with: "2026-12-31T00:00:00.000Z")
        let endedValues = Self.rendered(try Self.read("agreement", ended))
        #expect(endedValues["agreement_consumption_end"] == "2026-12-31T00:00:00.000Z")
    }

    @Test("Profile: the account status; no personal data is read into any entity")
    func profile() throws {
        let values = Self.rendered(try Self.read("profile"))
        #expect(values["account_status"] == "Verified")
        let profile = try Self.fixture("profile")
        let personal = ["firstName", "lastName", "mainEmail", "phone"].compactMap { profile[$0]?.stringValue }
        for endpoint in Self.endpoints {
            for value in Self.rendered(try Self.read(endpoint)).values {
                #expect(!personal.contains(value), "\(endpoint) publishes personal data")
            }
        }
    }
}
