import Testing

@testable import BridgeCore

@Suite("MappingEngine")
struct MappingEngineTests {
    private let engine = MappingEngine()

    private func mapping(_ yaml: String) throws -> MappingFile {
        try #require(MappingTestSupport.load(yaml))
    }

    @Test("Reads, scales and rounds values on the endpoint's entities only")
    func readsEntities() throws {
        let mapping = try mapping("""
            source: cozify_han
            device:
              manufacturer: Cozify
              model: { from: { endpoint: meter_id, path: model } }
            entities:
              - { id: power_import, from: { endpoint: meter, path: "pi[0]" }, device_class: power }
              - { id: voltage_l1, from: { endpoint: meter, path: u.0 }, device_class: voltage, scale: 0.1, precision: 1 }
              - { id: energy_import, from: { endpoint: meter, path: ic }, device_class: energy, convert: Wh }
              - { id: missing, from: { endpoint: meter, path: nothing_here }, device_class: power }
              - { id: meter_model, from: { endpoint: meter_id, path: model } }
            """)
        let document = MappingTestSupport.json(#"{"pi": [1520], "u": [2300.9999], "ic": 1234567}"#)
        let output = engine.readings(endpoint: "meter", document: document, mapping: mapping)
        #expect(output.readings == [
            Reading(entityID: "power_import", value: .number(1520, precision: nil)),
            Reading(entityID: "voltage_l1", value: .number(230.1, precision: 1)),
            Reading(entityID: "energy_import", value: .number(1234.567, precision: nil)),
        ])
        #expect(output.reading("voltage_l1")?.value.rendered == "230.1")
        #expect(output.issues.isEmpty)
        #expect(output.device == [.manufacturer: "Cozify"])

        let identity = engine.readings(endpoint: "meter_id", document: ["model": "Kaifa MA304"], mapping: mapping)
        #expect(identity.device == [.manufacturer: "Cozify", .model: "Kaifa MA304"])
        #expect(identity.readings == [Reading(entityID: "meter_model", value: .string("Kaifa MA304"))])
    }

    @Test("The first alternative present wins, each with its own scale")
    func alternatives() throws {
        let mapping = try mapping("""
            source: tinybms
            entities:
              - id: pack_voltage
                from:
                  - { endpoint: status, path: battery.voltage_mv, scale: 0.001 }
                  - { endpoint: status, path: battery.pack_voltage_v }
                  - { endpoint: telemetry, path: voltage_mv, scale: 0.001 }
                device_class: voltage
                precision: 2
            """)
        let documented = engine.readings(endpoint: "status", document: ["battery": ["voltage_mv": 52001]], mapping: mapping)
        #expect(documented.reading("pack_voltage")?.value == .number(52, precision: 2))
        #expect(documented.reading("pack_voltage")?.value.rendered == "52")

        let deployed = engine.readings(endpoint: "status", document: ["battery": ["pack_voltage_v": 53.27]], mapping: mapping)
        #expect(deployed.reading("pack_voltage")?.value.rendered == "53.27")

        let both = engine.readings(endpoint: "status", document: ["battery": ["voltage_mv": nil, "pack_voltage_v": 51.5]], mapping: mapping)
        #expect(both.reading("pack_voltage")?.value.rendered == "51.5")

        let onlyNull = engine.readings(endpoint: "status", document: ["battery": ["voltage_mv": nil]], mapping: mapping)
        #expect(onlyNull.reading("pack_voltage")?.value == .null)

        let stream = engine.readings(endpoint: "telemetry", document: ["voltage_mv": 52500], mapping: mapping)
        #expect(stream.reading("pack_voltage")?.value.rendered == "52.5")
    }

    @Test("A type mismatch is an issue, not a reading and not a crash")
    func typeMismatch() throws {
        let mapping = try mapping("""
            source: han
            entities:
              - { id: power, from: { endpoint: meter, path: p }, device_class: power, scale: 1000 }
              - { id: voltage, from: { endpoint: meter, path: u }, device_class: voltage }
              - { id: current, from: { endpoint: meter, path: i }, device_class: current }
            """)
        let output = engine.readings(endpoint: "meter", document: ["p": "abc", "u": "230.5", "i": ["x": 1]], mapping: mapping)
        #expect(output.readings == [Reading(entityID: "voltage", value: .number(230.5, precision: nil))])
        #expect(output.issues.map(\.description) == [
            "power at meter:p: scale: expected a number, got a string ('abc')",
            "current at meter:i: expected a number, got an object",
        ])
    }

    @Test("Binary sensors, enums and trackers get their component's shape")
    func componentShapes() throws {
        let mapping = try mapping("""
            source: mixed
            entities:
              - { id: connected, component: binary_sensor, device_class: connectivity, from: { endpoint: s, path: status }, map: { Connected: true, Disconnected: false } }
              - { id: balancing, component: binary_sensor, from: { endpoint: s, path: bal } }
              - { id: state, device_class: enum, options: [Charging, Idle], from: { endpoint: s, path: state }, map: { CHARGING: Charging } }
              - { id: phone, component: device_tracker, from: { endpoint: s, path: active } }
              - { id: bad_state, device_class: enum, options: [Charging, Idle], from: { endpoint: s, path: other } }
            """)
        let output = engine.readings(
            endpoint: "s",
            document: ["status": "Connected", "bal": 1, "state": "CHARGING", "active": false, "other": "Faulted"],
            mapping: mapping
        )
        #expect(output.readings.map(\.value) == [.bool(true), .bool(true), .string("Charging"), .string("not_home")])
        #expect(output.readings.map(\.value.rendered) == ["ON", "ON", "Charging", "not_home"])
        #expect(output.issues.map(\.message) == ["'Faulted' is not one of the options (Charging, Idle)"])
    }

    @Test("json_attributes adds the object at its path")
    func attributes() throws {
        let mapping = try mapping("""
            source: tinybms
            entities:
              - id: status
                from: { endpoint: status, path: battery.status }
                json_attributes: battery.protection
            """)
        let output = engine.readings(
            endpoint: "status",
            document: ["battery": ["status": "IDLE", "protection": ["ov": false, "uv": true]]],
            mapping: mapping
        )
        #expect(output.readings == [Reading(entityID: "status", value: .string("IDLE"), attributes: ["ov": false, "uv": true])])
    }

    @Test("A child entity expands per list item with a topic-safe id taken from a field")
    func childExpansion() throws {
        let mapping = try mapping("""
            source: ocpp_csms
            entities:
              - id: connector_status
                child: { kind: connector, endpoint: point, list: connectors, id: connector_id, name: connector_id_name, device: { model: type } }
                from: { path: status }
                device_class: enum
                options: [Available, Charging]
              - id: connector_power
                child: { kind: connector, list: connectors, id: connector_id }
                from: { endpoint: point, path: power }
                device_class: power
                scale: 0.001
                unit: kW
              - id: point_power
                from: { endpoint: point, path: "connectors[connector_id=2].power" }
                device_class: power
            """)
        let document = MappingTestSupport.json("""
            {"charge_point_id": "CP001", "connectors": [
              {"connector_id": 1, "connector_id_name": "CCS", "type": "CCS2", "status": "Available", "power": 0},
              {"connector_id": 2, "status": "Charging", "power": 7400}
            ]}
            """)
        let output = engine.readings(endpoint: "point", document: document, mapping: mapping)
        #expect(output.readings == [
            // Item by item: both entities of connector 1, then of connector 2.
            Reading(entityID: "connector_status", childID: "1", value: .string("Available")),
            Reading(entityID: "connector_power", childID: "1", value: .number(0, precision: nil)),
            Reading(entityID: "connector_status", childID: "2", value: .string("Charging")),
            Reading(entityID: "connector_power", childID: "2", value: .number(7.4, precision: nil)),
            Reading(entityID: "point_power", value: .number(7400, precision: nil)),
        ])
        #expect(output.children == [
            ChildDevice(id: "1", key: 1, name: "CCS", kind: "connector", device: [.model: "CCS2"]),
            ChildDevice(id: "2", key: 2, name: "Connector 2", kind: "connector"),
        ])
        #expect(output.childIDs == ["connector": ["1", "2"]])

        let empty = engine.readings(endpoint: "point", document: ["connectors": []], mapping: mapping)
        #expect(empty.childIDs == ["connector": []])
        let absent = engine.readings(endpoint: "point", document: [:], mapping: mapping)
        #expect(absent.childIDs.isEmpty && absent.readings.isEmpty)
    }

    @Test("Children of both firmware shapes: objects with an index, or a bare array by position")
    func cellsBothShapes() throws {
        let mapping = try mapping("""
            source: tinybms
            entities:
              - id: cell_voltage
                child: { kind: cell, endpoint: telemetry, list: ["cells[*]", battery.cell_voltage_mv], id: $index }
                from:
                  - { path: voltage_mv, scale: 0.001 }
                  - { path: "@", scale: 0.001 }
                device_class: voltage
                precision: 3
              - id: cell_balancing
                component: binary_sensor
                child: { kind: cell, endpoint: telemetry, list: ["cells[*]", battery.cell_voltage_mv], id: $index }
                from:
                  - { path: balancing }
                  - { path: "$.battery.cell_balancing[$index]" }
            """)
        let documented = MappingTestSupport.json(#"{"cells": [{"index": 0, "voltage_mv": 3250, "balancing": false}, {"index": 1, "voltage_mv": 3248, "balancing": true}]}"#)
        let deployed = MappingTestSupport.json(#"{"battery": {"cell_voltage_mv": [3301, 3305], "cell_balancing": [true, false]}}"#)
        for (document, voltages, balancing) in [(documented, ["3.25", "3.248"], ["OFF", "ON"]), (deployed, ["3.301", "3.305"], ["ON", "OFF"])] {
            let output = engine.readings(endpoint: "telemetry", document: document, mapping: mapping)
            #expect(output.readings.filter { $0.entityID == "cell_voltage" }.map(\.value.rendered) == voltages)
            #expect(output.readings.filter { $0.entityID == "cell_balancing" }.map(\.value.rendered) == balancing)
            #expect(output.children.map(\.id) == ["0", "1"])
            #expect(output.children.map(\.name) == ["Cell 0", "Cell 1"])
        }
    }

    @Test("An item without an id is named by its position in the whole list, also through nested lists")
    func missingIDPositions() throws {
        let mapping = try mapping("""
            source: fritz_network
            entities:
              - id: rate
                child: { kind: client, endpoint: mesh, list: "groups[*].members[*]", id: mac }
                from: { path: rate }
            """)
        let document = MappingTestSupport.json("""
            {"groups": [
              {"members": [{"rate": 1}, {"mac": "aa", "rate": 2}]},
              {"members": [{"rate": 3}, {"mac": "bb", "rate": 4}]}
            ]}
            """)
        let output = engine.readings(endpoint: "mesh", document: document, mapping: mapping)
        #expect(output.issues.map(\.message) == ["item 0 has no id at mac", "item 2 has no id at mac"])
        #expect(output.readings.map(\.childID) == ["aa", "bb"])
    }

    @Test("Composite child ids: the device id joins the parts topic-safe, the key keeps each field; a missing id is an issue")
    func compositeIDs() throws {
        let mapping = try mapping("""
            source: fritz_network
            entities:
              - id: presence
                component: device_tracker
                child: { kind: client, endpoint: devices, list: "devices[*]", id: [mac, ip], name: name }
                from: { path: active }
            """)
        let document = MappingTestSupport.json("""
            {"devices": [
              {"mac": "AA:BB:CC:00:11:22", "ip": "192.168.1.5", "name": "Bob's iPhone", "active": true},
              {"name": "ghost", "active": false}
            ]}
            """)
        let output = engine.readings(endpoint: "devices", document: document, mapping: mapping)
        #expect(output.readings == [Reading(entityID: "presence", childID: "aa_bb_cc_00_11_22_192_168_1_5", value: .string("home"))])
        #expect(output.children.first?.key == ["mac": "AA:BB:CC:00:11:22", "ip": "192.168.1.5"], "each id field, not a joined string")
        #expect(output.children.first?.name == "Bob's iPhone")
        #expect(output.issues.map(\.message) == ["item 1 has no id at mac, ip"])
    }

    @Test("A writable command's state is published under the command's id")
    func commandState() throws {
        let mapping = try mapping("""
            source: cozify_han
            commands:
              - id: spot_price
                component: switch
                state: { endpoint: configuration, path: s }
                call: { method: POST, path: /configuration, body: { s: $value } }
              - id: fuse
                component: select
                options: ["16", "20", "25"]
                state: { endpoint: configuration, path: f }
                call: { method: POST, path: /configuration, body: { f: $value } }
            """)
        let output = engine.readings(endpoint: "configuration", document: ["s": true, "f": 20], mapping: mapping)
        #expect(output.readings == [
            Reading(entityID: "spot_price", value: .bool(true)),
            Reading(entityID: "fuse", value: .string("20")),
        ])
    }
}

@Suite("MappingEngine changing lists")
struct MappingEngineChangingListTests {
    /// A generator with a fixed seed (SplitMix64), so a failure can be replayed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("Documents with reordered, duplicate, missing and renamed ids name each id once, where it first appears")
    func changingListsNameEachIDOnce() throws {
        let mapping = try #require(MappingTestSupport.load("""
            source: bench
            entities:
              - id: rx
                child: { kind: client, endpoint: clients, list: "items[*]", id: mac, name: name }
                from: { path: rx }
              - id: up
                component: binary_sensor
                child: { kind: client, endpoint: clients, list: "items[*]", id: mac, name: name }
                from: { path: up }
              - id: cell
                child: { kind: cell, endpoint: clients, list: "cells", id: $index }
                from: { path: v }
            """))
        // Ids that differ only in what the topic-safe form drops ("AA:01" and "aa-01" do not;
        // "AA:01" and "aa_01" do) make duplicates appear and vanish as the list changes.
        let pool: [JSONValue?] = ["AA:01", "aa_01", "BB:02", "cc 03", 4, "", nil, "DD:04"]
        var generator = SeededGenerator(state: 20_261_123)
        let engine = MappingEngine()
        var items: [JSONValue] = []
        var duplicates = 0
        for round in 0..<2000 {
            // Mostly the same list again (as a source sends it), sometimes edited or new.
            func item(_ index: Int) -> JSONValue {
                var item: [String: JSONValue] = ["rx": .number(Double(round * 10 + index)), "up": .bool(index % 2 == 0)]
                if let id = pool.randomElement(using: &generator) ?? nil { item["mac"] = id }
                if Bool.random(using: &generator) { item["name"] = .string("client \(index)") }
                return .object(item)
            }
            switch round == 0 ? 0 : Int.random(in: 0..<12, using: &generator) {
            case 0:
                items = (0..<Int.random(in: 0...6, using: &generator)).map(item)
            case 1 where items.count > 1:
                items.swapAt(0, Int.random(in: 1..<items.count, using: &generator))
            case 2 where !items.isEmpty:
                // Another item's id again: a duplicate.
                let from = items.randomElement(using: &generator)?["mac"] ?? nil
                let at = Int.random(in: 0..<items.count, using: &generator)
                if case .object(var object) = items[at] {
                    object["mac"] = from
                    items[at] = .object(object)
                }
            case 3 where !items.isEmpty:
                items.remove(at: Int.random(in: 0..<items.count, using: &generator))
            case 4:
                items.insert(item(items.count), at: Int.random(in: 0...items.count, using: &generator))
            default:
                break
            }
            let cells = (0..<Int.random(in: 0...3, using: &generator)).map { JSONValue.object(["v": .number(Double($0 + round))]) }
            let document: JSONValue = ["items": .array(items), "cells": .array(cells)]
            let fresh = engine.readings(endpoint: "clients", document: document, mapping: mapping)
            // Each id once, where it first appears.
            var expected: [String] = []
            for case .object(let object) in items {
                guard let key = object["mac"], !key.isNull, !key.text.isEmpty else { continue }
                let id = TopicSafe.id(key.text)
                if !expected.contains(id) { expected.append(id) }
            }
            #expect(fresh.children.filter { $0.kind == "client" }.map(\.id) == expected, "document \(round)")
            if fresh.children.filter({ $0.kind == "client" }).map(\.id) != expected { return }
            duplicates += fresh.issues.filter { $0.message.contains("two items") }.count / 2
        }
        #expect(duplicates > 100, "the documents named a child twice \(duplicates) times")
    }
}
