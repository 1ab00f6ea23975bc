import Foundation
import Testing

@testable import BridgeCore

/// Where the built-in mappings and the API fixtures are, found through `#filePath`.
enum MappingsDirectory {
    /// `Mappings/` at the package root (`../../../Mappings/` from this file's folder).
    static let mappings = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../../../Mappings")
        .standardizedFileURL.path

    /// `Tests/BridgeCoreTests/Fixtures/`.
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../Fixtures")
        .standardizedFileURL.path

    /// The document captured for one endpoint of a source type, if there is one:
    /// `Fixtures/<source>/<endpoint>.json`.
    static func fixture(source: String, endpoint: String) throws -> JSONValue? {
        let path = "\(fixtures)/\(source)/\(endpoint).json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try JSONValue(parsing: String(contentsOfFile: path, encoding: .utf8))
    }
}

/// `Mappings/cozify_han.yaml` against documents shaped by cozify-han-reader.openapi.yaml.
@Suite("The Cozify HAN mapping")
struct CozifyHANMappingTests {
    static let source = "cozify_han"

    /// The mapping file alone (so a broken sibling file cannot fail these tests).
    static func mapping() throws -> MappingFile {
        let path = "\(MappingsDirectory.mappings)/cozify_han.yaml"
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
        return try MappingLoader.load(yaml: yaml, file: path)
    }

    /// The fixture of an endpoint, which must exist.
    static func fixture(_ endpoint: String) throws -> JSONValue {
        try #require(try MappingsDirectory.fixture(source: source, endpoint: endpoint), "no fixture for \(endpoint)")
    }

    /// Runs the mapping over a document; a document that does not fit is an issue.
    static func read(
        _ endpoint: String,
        _ document: JSONValue? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MappingOutput {
        let document = try document ?? fixture(endpoint)
        let output = MappingEngine().readings(endpoint: endpoint, document: document, mapping: try mapping())
        #expect(output.issues.map(\.description) == [], sourceLocation: sourceLocation)
        return output
    }

    /// Every reading as `entity=payload`, in mapping order.
    static func rendered(_ output: MappingOutput) -> [String: String] {
        Dictionary(output.readings.map { ($0.entityID, $0.value.rendered) }, uniquingKeysWith: { first, _ in first })
    }

    /// Validates an MQTT payload for a command and renders its call.
    static func call(_ id: String, _ payload: String) throws -> Result<RenderedCall, ValidationFailure> {
        let command = try #require(try mapping().command(id), "no command \(id)")
        guard case .call(let call) = command.target else {
            Issue.record("command \(id) has no call")
            return .failure(ValidationFailure(message: "no call"))
        }
        return command.prepare(JSONValue(mqttPayload: payload)).map { call.rendered(value: $0) }
    }

    // MARK: - The file

    @Test("Loads, lints clean and reads the six endpoints the adapter delivers")
    func loadsAndLints() throws {
        let mapping = try Self.mapping()
        #expect(mapping.source == "cozify_han")
        #expect(MappingLinter.lint(mapping).map(\.description) == [])
        #expect(mapping.endpoints == ["meter", "meter_id", "han", "health", "configuration", "scan"])
    }

    @Test("Ids are snake_case and no command shares an id with an entity")
    func ids() throws {
        let mapping = try Self.mapping()
        let ids = mapping.entities.map(\.id) + mapping.commands.map(\.id)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.wholeMatch(of: /[a-z][a-z0-9_]*/) != nil, "\(id) is not snake_case")
        }
    }

    // MARK: - Meter values

    @Test("Active and reactive power are W and var, per phase and in total")
    func power() throws {
        let values = Self.rendered(try Self.read("meter"))
        let expected: [String: String] = [
            "power_import": "2459", "power_import_l1": "612", "power_import_l2": "1106", "power_import_l3": "742",
            "power_export": "0", "power_export_l1": "0", "power_export_l2": "0", "power_export_l3": "0",
            "reactive_power_import": "211", "reactive_power_import_l1": "60", "reactive_power_import_l2": "90",
            "reactive_power_import_l3": "60",
            "reactive_power_export": "12", "reactive_power_export_l1": "4", "reactive_power_export_l2": "0",
            "reactive_power_export_l3": "8",
        ]
        for (id, value) in expected {
            #expect(values[id] == value, "\(id)")
        }
        let mapping = try Self.mapping()
        for id in expected.keys {
            let entity = try #require(mapping.entity(id))
            let reactive = id.hasPrefix("reactive")
            #expect(entity.deviceClass == (reactive ? "reactive_power" : "power"))
            #expect(entity.unit == (reactive ? "var" : "W"))
            #expect(entity.stateClass == .measurement)
            #expect(entity.precision == 0)
            #expect(entity.expireAfter == .seconds(600))
        }
    }

    @Test("Voltages are V with one decimal, currents A with two")
    func voltageAndCurrent() throws {
        let values = Self.rendered(try Self.read("meter"))
        #expect(values["voltage_l1"] == "231.5")
        #expect(values["voltage_l2"] == "229.8")
        #expect(values["voltage_l3"] == "233.1")
        #expect(values["current_l1"] == "2.65")
        #expect(values["current_l2"] == "4.81")
        #expect(values["current_l3"] == "3.21")
        let mapping = try Self.mapping()
        #expect(mapping.entity("voltage_l1")?.unit == "V")
        #expect(mapping.entity("current_l3")?.unit == "A")
    }

    @Test("Energy counters are kWh and kvarh, total_increasing, for the energy dashboard")
    func energy() throws {
        let values = Self.rendered(try Self.read("meter"))
        #expect(values["energy_import"] == "12345.678")
        #expect(values["energy_export"] == "543.21")
        #expect(values["reactive_energy_import"] == "1234.567")
        #expect(values["reactive_energy_export"] == "98.765")
        let mapping = try Self.mapping()
        for id in ["energy_import", "energy_export"] {
            let entity = try #require(mapping.entity(id))
            #expect(entity.deviceClass == "energy" && entity.unit == "kWh" && entity.stateClass == .totalIncreasing)
            #expect(entity.precision == 3 && entity.entityCategory == nil && entity.expireAfter == nil)
        }
        for id in ["reactive_energy_import", "reactive_energy_export"] {
            let entity = try #require(mapping.entity(id))
            #expect(entity.deviceClass == "reactive_energy" && entity.unit == "kvarh" && entity.stateClass == .totalIncreasing)
        }
    }

    @Test("The OpenAPI document's own /meter example reads as documented")
    func specExample() throws {
        let document = MappingTestSupport.json("""
            {"type": "HAN_METER_MESSAGE", "ts": 173568240000, "ic": 1000, "ec": 10, "ric": 1, "rec": 1,
             "p": [1000, 300, 400, 300], "pi": [1000, 300, 400, 300], "pe": [0, 0, 0, 0],
             "r": [10, 3, 4, 3], "ri": [10, 3, 4, 3], "re": [0, 0, 0, 0], "u": [220, 220, 220], "i": [6, 6, 6]}
            """)
        let values = Self.rendered(try Self.read("meter", document))
        #expect(values["power_import"] == "1000" && values["power_import_l2"] == "400")
        #expect(values["reactive_power_import"] == "10" && values["voltage_l3"] == "220" && values["current_l1"] == "6")
        #expect(values["energy_import"] == "1000" && values["energy_export"] == "10")
        #expect(values["reactive_energy_import"] == "1" && values["reactive_energy_export"] == "1")
    }

    @Test("The telegram time reads the same whether ts is in milliseconds (documented) or seconds (some firmware)")
    func telegramTime() throws {
        for ts in ["1763848683000", "1763848683"] {
            let document = MappingTestSupport.json(#"{"type": "HAN_METER_MESSAGE", "ts": \#(ts), "ic": 1, "ec": 0}"#)
            let values = Self.rendered(try Self.read("meter", document))
            #expect(values["last_telegram"] == "2025-11-22T21:58:03Z", "ts \(ts)")
        }
        let entity = try #require(try Self.mapping().entities.first { $0.id == "last_telegram" })
        #expect(entity.deviceClass == "timestamp" && entity.unit == nil && entity.stateClass == nil)
    }

    @Test("Firmware without pi and ri falls back to the deprecated p and r arrays")
    func deprecatedArrays() throws {
        let document = MappingTestSupport.json("""
            {"type": "HAN_METER_MESSAGE", "ts": 1735682400, "ic": 1, "ec": 0, "ric": 0, "rec": 0,
             "p": [900, 100, 300, 500], "r": [30, 10, 10, 10], "u": [230, 230, 230], "i": [1, 2, 3]}
            """)
        let values = Self.rendered(try Self.read("meter", document))
        #expect(values["power_import"] == "900" && values["power_import_l3"] == "500")
        #expect(values["reactive_power_import"] == "30" && values["reactive_power_import_l1"] == "10")
        #expect(values["power_export"] == nil)
    }

    @Test("A zero phase voltage (bus loss, missing phase) is unknown; zero current stays 0")
    func zeroVoltage() throws {
        let document = MappingTestSupport.json("""
            {"type": "HAN_METER_MESSAGE", "ts": 1, "ic": 5, "ec": 0, "ric": 0, "rec": 0, "p": [0, 0, 0, 0],
             "pi": [0, 0, 0, 0], "pe": [0, 0, 0, 0], "r": [0, 0, 0, 0], "ri": [0, 0, 0, 0], "re": [0, 0, 0, 0],
             "u": [230.2, 0, 0.0], "i": [0, 0, 0]}
            """)
        let output = try Self.read("meter", document)
        #expect(output.reading("voltage_l1")?.value == .number(230.2, precision: 1))
        #expect(output.reading("voltage_l2")?.value == .null)
        #expect(output.reading("voltage_l3")?.value == .null)
        #expect(output.reading("current_l2")?.value.rendered == "0")
    }

    // MARK: - Identity and diagnostics

    @Test("Meter identity fills the device block and diagnostic sensors")
    func meterIdentity() throws {
        let output = try Self.read("meter_id")
        #expect(output.device == [.manufacturer: "Kaifa", .model: "AM550", .serialNumber: "A123456789012345"])
        let values = Self.rendered(output)
        #expect(values["meter_manufacturer"] == "KFM")
        #expect(values["meter_model"] == "AM550")
        #expect(values["meter_id"] == "A123456789012345")
        #expect(values["meter_device_type"] == "E")
        let mapping = try Self.mapping()
        for id in ["meter_manufacturer", "meter_model", "meter_id", "meter_device_type"] {
            #expect(mapping.entity(id)?.entityCategory == .diagnostic, "\(id)")
        }
        // An unknown manufacturer code shows as written; the device name is never read from a document.
        let other = try Self.read("meter_id", MappingTestSupport.json(#"{"manufacturerId": "XYZ", "meterName": "M1", "meterId": "1"}"#))
        #expect(other.device[.manufacturer] == "XYZ")
        #expect(mapping.device.fields[.name] == nil)
    }

    @Test("Reader state, online, firmware, channel, IPs, uptime, heap and reset reason are diagnostics")
    func readerDiagnostics() throws {
        let han = try Self.read("han")
        let values = Self.rendered(han).merging(Self.rendered(try Self.read("health")), uniquingKeysWith: { first, _ in first })
        #expect(values["online"] == "ON")
        #expect(values["reader_state"] == "REGISTERED")
        #expect(values["firmware"] == "1.0.1.0")
        #expect(values["firmware_channel"] == "release")
        #expect(values["reader_serial"] == "HAN12345678")
        #expect(values["ethernet_ip"] == "192.168.1.50")
        #expect(han.reading("wifi_ip")?.value == .null)  // 0.0.0.0: not assigned
        #expect(values["mac_address"] == "AA:BB:CC:DD:EE:FF")
        #expect(values["hostname"] == "Cozify-HAN-123-456")
        #expect(values["uptime"] == "1235")  // 1 234 567 ms
        #expect(values["free_heap"] == "182144")
        #expect(values["minimum_free_heap"] == "176320")
        #expect(values["reset_reason"] == "RST_POWERON")
        let mapping = try Self.mapping()
        let diagnostics = [
            "online", "reader_state", "firmware", "firmware_channel", "reader_serial", "ethernet_ip", "wifi_ip",
            "mac_address", "hostname", "uptime", "free_heap", "minimum_free_heap", "reset_reason",
        ]
        for id in diagnostics {
            #expect(mapping.entity(id)?.entityCategory == .diagnostic, "\(id)")
        }
        #expect(mapping.entity("online")?.component == .binarySensor && mapping.entity("online")?.deviceClass == "connectivity")
        #expect(mapping.entity("uptime")?.unit == "s" && mapping.entity("uptime")?.deviceClass == "duration")
        #expect(mapping.entity("free_heap")?.unit == "B" && mapping.entity("free_heap")?.deviceClass == "data_size")
    }

    // MARK: - Configuration controls

    @Test("Configuration controls show the reader's current configuration")
    func configurationState() throws {
        let output = try Self.read("configuration")
        let values = Self.rendered(output)
        #expect(values["spot_price"] == "ON")
        #expect(values["fixed_price"] == "0.1234")
        #expect(values["main_fuse"] == "25")
        #expect(values["timezone"] == "Europe/Helsinki")
        #expect(values["firmware"] == "1.0.1.0")
        #expect(values["wifi_ssid"] == "HomeNetwork")
        #expect(values["wifi_enabled"] == "OFF")
        #expect(values["ethernet_enabled"] == "ON")
        #expect(!output.readings.contains { $0.value.rendered.contains("***") }, "the masked WiFi password is never read")
        let mapping = try Self.mapping()
        for id in ["spot_price", "fixed_price", "main_fuse", "timezone"] {
            #expect(mapping.command(id)?.entityCategory == .config, "\(id)")
        }
        #expect(mapping.command("spot_price")?.component == .switch)
        #expect(mapping.command("fixed_price")?.component == .number)
        #expect(mapping.command("main_fuse")?.component == .number && mapping.command("main_fuse")?.unit == "A")
        #expect(mapping.command("timezone")?.component == .text)
    }

    /// A command payload and the call it must become (or `nil`: refused before any call).
    struct Case: Sendable, CustomTestStringConvertible {
        let command: String
        let payload: String
        let body: JSONValue?

        init(_ command: String, _ payload: String, _ body: JSONValue? = nil) {
            self.command = command
            self.payload = payload
            self.body = body
        }

        var testDescription: String { "\(command) ← '\(payload)'" }
    }

    static let accepted: [Case] = [
        Case("spot_price", "ON", ["s": true]),
        Case("spot_price", "false", ["s": false]),
        Case("fixed_price", "0.0875", ["p": 0.0875]),
        Case("fixed_price", "0", ["p": 0]),
        Case("fixed_price", "10", ["p": 10]),
        Case("main_fuse", "25", ["m": ["f": 25]]),
        Case("main_fuse", "6", ["m": ["f": 6]]),
        Case("main_fuse", "250", ["m": ["f": 250]]),
        Case("timezone", "Europe/Stockholm", ["t": "Europe/Stockholm"]),
        Case("timezone", "America/Argentina/Buenos_Aires", ["t": "America/Argentina/Buenos_Aires"]),
        Case("timezone", "Etc/GMT+2", ["t": "Etc/GMT+2"]),
        Case("timezone", "UTC", ["t": "UTC"]),
    ]

    @Test("Each control POSTs only its own field to /configuration", arguments: accepted)
    func accepts(_ sample: Case) throws {
        let call = try Self.call(sample.command, sample.payload).get()
        #expect(call == RenderedCall(method: "POST", path: "/configuration", body: sample.body))
    }

    static let refused: [Case] = [
        Case("spot_price", "maybe"),
        Case("spot_price", "2"),
        Case("fixed_price", "-0.01"),
        Case("fixed_price", "10.5"),
        Case("fixed_price", "cheap"),
        Case("main_fuse", "5"),
        Case("main_fuse", "251"),
        Case("main_fuse", "16.5"),
        Case("main_fuse", "big"),
        Case("timezone", ""),
        Case("timezone", "Europe/Hel sinki"),
        Case("timezone", "../../etc/passwd"),
        Case("timezone", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
        Case("timezone", "123"),
        Case("timezone", "Europe/" + String(repeating: "A", count: 58)),
    ]

    @Test("Out-of-range or malformed values are refused before any call", arguments: refused)
    func refuses(_ sample: Case) throws {
        #expect(throws: ValidationFailure.self) { try Self.call(sample.command, sample.payload).get() }
    }

    @Test("Number and text controls carry their limits to Home Assistant")
    func limits() throws {
        let mapping = try Self.mapping()
        let price = try #require(mapping.command("fixed_price"))
        #expect(price.validation == CommandValidation(kind: .number, min: 0, max: 10))
        #expect(price.min == 0 && price.max == 10 && price.unit == "EUR/kWh")
        let fuse = try #require(mapping.command("main_fuse"))
        #expect(fuse.validation == CommandValidation(kind: .integer, min: 6, max: 250))
        #expect(fuse.min == 6 && fuse.max == 250 && fuse.step == 1 && fuse.deviceClass == "current")
        let timezone = try #require(mapping.command("timezone"))
        #expect(timezone.validation.kind == .string && timezone.validation.maxLength == 64 && timezone.validation.pattern != nil)
    }

    @Test("No command writes WiFi, Ethernet or set-up settings")
    func noNetworkSetup() throws {
        let mapping = try Self.mapping()
        for command in mapping.commands {
            guard case .call(let call) = command.target else { continue }
            #expect(call.path == "/configuration", "\(command.id)")
            let keys = Set(call.body?.objectValue?.keys.map { $0 } ?? [])
            #expect(keys.count == 1 && keys.isSubset(of: ["s", "p", "m", "t"]), "\(command.id) writes \(keys.sorted())")
        }
        let yaml = try String(contentsOfFile: "\(MappingsDirectory.mappings)/cozify_han.yaml", encoding: .utf8)
        #expect(yaml.contains("No WiFi or network setup over MQTT"))
    }

    // MARK: - WiFi scan

    @Test("The WiFi scan button runs the adapter action; the result lands as attributes")
    func wifiScan() throws {
        let mapping = try Self.mapping()
        let button = try #require(mapping.command("scan_wifi_networks"))
        #expect(button.component == .button)
        #expect(button.target == .action("scan_networks"))
        #expect(throws: Never.self) { try button.prepare(JSONValue(mqttPayload: "PRESS")).get() }
        #expect(throws: ValidationFailure.self) { try button.prepare(JSONValue(mqttPayload: "go")).get() }

        let output = try Self.read("scan")
        let reading = try #require(output.reading("wifi_scan"))
        #expect(reading.value == .string("SCAN_SUCCESS"))
        let networks = try #require(reading.attributes?["networks"]?.arrayValue)
        #expect(networks.count == 3)
        #expect(networks.first?["ssid"] == "HomeNetwork" && networks.first?["rssi"] == -48)
        #expect(networks.last?["auth"] == "OPEN")

        let running = try Self.read("scan", MappingTestSupport.json(#"{"status": "SCAN_RUNNING"}"#))
        #expect(running.reading("wifi_scan")?.value == .string("SCAN_RUNNING"))
        #expect(running.reading("wifi_scan")?.attributes == ["status": "SCAN_RUNNING"])
    }

    @Test("Every fixture reads without issues", arguments: ["meter", "meter_id", "han", "health", "configuration", "scan"])
    func fixtures(endpoint: String) throws {
        let output = try Self.read(endpoint)
        #expect(!output.readings.isEmpty)
    }
}

/// Every file in `Mappings/`: the catalogue test (style.md 2.4) that keeps a broken mapping
/// from merging.
@Suite("The built-in mappings directory")
struct MappingsDirectoryTests {
    /// The YAML files in `Mappings/`.
    static var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: MappingsDirectory.mappings)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }

    @Test("Every file in Mappings/ loads and lints clean")
    func loadsAndLintsClean() throws {
        #expect(!Self.files.isEmpty)
        #expect(MappingLinter.check(builtIn: MappingsDirectory.mappings, environment: [:]).map(\.description) == [])
        let mappings = try MappingLoader.load(builtIn: MappingsDirectory.mappings, environment: [:])
        #expect(mappings.count == Self.files.count, "each file maps its own source type")
        for (source, mapping) in mappings {
            #expect(SourceType(rawValue: source) != nil, "\(mapping.file) maps the unknown source type '\(source)'")
        }
    }

    @Test("Every mapping reads the fixtures captured for its endpoints without issues")
    func readsFixtures() throws {
        let mappings = try MappingLoader.load(builtIn: MappingsDirectory.mappings, environment: [:])
        for (source, mapping) in mappings {
            for endpoint in mapping.endpoints.sorted() {
                guard let document = try MappingsDirectory.fixture(source: source, endpoint: endpoint) else { continue }
                let output = MappingEngine().readings(endpoint: endpoint, document: document, mapping: mapping)
                #expect(output.issues.map(\.description) == [], "\(source) / \(endpoint)")
            }
        }
    }
}
