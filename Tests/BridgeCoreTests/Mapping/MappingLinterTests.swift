import Foundation
import Testing

@testable import BridgeCore

@Suite("MappingLinter")
struct MappingLinterTests {
    private func lint(_ yaml: String) -> [String] {
        MappingTestSupport.lint(yaml)
    }

    @Test("A unit the device class does not allow points at the unit")
    func badUnit() {
        let yaml = """
            source: tinybms
            entities:
              - id: pack_voltage
                from: { endpoint: status, path: voltage_mv }
                device_class: voltage
                unit: mA
            """
        #expect(lint(yaml) == [
            "test.yaml:6:11: entities[0].unit: 'mA' is not a valid unit for device_class voltage "
                + "(expected V, mV, µV, kV, MV; use scale or convert to change units)"
        ])
    }

    @Test("A state class the device class does not allow points at the state class", arguments: [
        ("monetary", "SEK", "measurement", "state_class measurement is not valid for device_class monetary (expected total)"),
        ("energy", "kWh", "measurement", "state_class measurement is not valid for device_class energy (expected total or total_increasing)"),
        ("power", "W", "total_increasing", "state_class total_increasing is not valid for device_class power (expected measurement)"),
    ])
    func badStateClass(deviceClass: String, unit: String, stateClass: String, message: String) {
        let yaml = """
            source: flowerhub
            entities:
              - id: value
                from: { endpoint: invoices, path: total }
                device_class: \(deviceClass)
                unit: \(unit)
                state_class: \(stateClass)
            """
        #expect(lint(yaml) == ["test.yaml:7:18: entities[0].state_class: \(message)"])
    }

    @Test("Accepted combinations lint clean", arguments: [
        ("energy", "Wh", "total"), ("energy", "MWh", "total_increasing"), ("power", "kW", "measurement"),
        ("current", "mA", "measurement"), ("reactive_power", "kvar", "measurement"), ("battery", "%", "measurement"),
        ("temperature", "K", "measurement"), ("data_rate", "Mbit/s", "measurement"), ("duration", "min", "total_increasing"),
        ("monetary", "EUR", "total"), ("reactive_energy", "kvarh", "total_increasing"),
    ])
    func acceptedCombinations(deviceClass: String, unit: String, stateClass: String) {
        let yaml = """
            source: han
            entities:
              - { id: value, from: { endpoint: meter, path: v }, device_class: \(deviceClass), unit: "\(unit)", state_class: \(stateClass) }
            """
        #expect(lint(yaml) == [])
    }

    @Test("Monetary needs a currency code and no default can stand in for it")
    func monetaryCurrency() {
        let yaml = """
            source: flowerhub
            entities:
              - id: cost
                from: { endpoint: invoices, path: total }
                device_class: monetary
              - id: price
                from: { endpoint: invoices, path: price }
                device_class: monetary
                unit: kr
            """
        #expect(lint(yaml) == [
            "test.yaml:5:19: entities[0].device_class: device_class monetary needs a currency code as its unit, such as EUR or SEK",
            "test.yaml:9:11: entities[1].unit: device_class monetary needs an ISO 4217 currency code such as EUR or SEK, got 'kr'",
        ])
    }

    @Test("Enum sensors need options, and options need an enum sensor")
    func enumOptions() {
        let yaml = """
            source: ocpp_csms
            entities:
              - id: status
                from: { endpoint: point, path: status }
                device_class: enum
              - id: state
                from: { endpoint: point, path: state }
                options: [available, charging]
              - id: mode
                from: { endpoint: point, path: mode }
                device_class: enum
                options: [a, b]
                unit: W
            """
        #expect(lint(yaml) == [
            "test.yaml:5:19: entities[0].device_class: an enum sensor needs options (the values it can take)",
            "test.yaml:8:14: entities[1].options: a sensor with options needs device_class: enum",
            "test.yaml:13:11: entities[2].unit: an enum sensor has options, so it takes no unit or state_class",
        ])
    }

    @Test("Unknown device classes get a suggestion; components without classes say so")
    func unknownDeviceClass() {
        let yaml = """
            source: han
            entities:
              - { id: p, from: { endpoint: m, path: p }, device_class: powr }
              - { id: c, component: binary_sensor, from: { endpoint: m, path: c }, device_class: connectivity }
              - { id: t, component: device_tracker, from: { endpoint: m, path: t }, device_class: presence }
            """
        #expect(lint(yaml) == [
            "test.yaml:3:60: entities[0].device_class: unknown device_class 'powr' for sensor (did you mean 'power'?)",
            "test.yaml:5:87: entities[2].device_class: device_tracker entities have no device_class",
        ])
    }

    @Test("Writable components need a command, commands need a call or an action")
    func writableNeedsCommand() {
        let yaml = """
            source: han
            entities:
              - id: spot_price
                component: switch
                from: { endpoint: configuration, path: s }
            commands:
              - id: fuse
                component: number
                min: 10
                max: 10
            """
        #expect(lint(yaml) == [
            "test.yaml:4:16: entities[0].component: a switch accepts commands: add a command with id 'spot_price' under commands, or use a read-only component",
            "test.yaml:7:5: commands[0]: a command needs a call or an action",
            "test.yaml:10:10: commands[0].max: max must be greater than min (min 10, max 10)",
        ])
    }

    @Test("Keys a component ignores are reported where they are written")
    func misplacedKeys() {
        let yaml = """
            source: han
            entities:
              - id: online
                component: binary_sensor
                from: { endpoint: m, path: online }
                unit: W
                state_class: measurement
                min: 0
                entity_category: config
              - id: cells
                from: { endpoint: m, path: "cells[*]" }
              - id: cell
                from: { endpoint: m, path: "cells[$index]" }
            """
        #expect(lint(yaml) == [
            "test.yaml:6:11: entities[0].unit: a binary_sensor has no unit",
            "test.yaml:7:18: entities[0].state_class: state_class applies to sensors, not binary_sensor",
            "test.yaml:8:10: entities[0].min: min applies to number controls, not binary_sensor",
            "test.yaml:9:22: entities[0].entity_category: a binary_sensor is read-only and cannot be in the config category (use diagnostic)",
            "test.yaml:11:32: entities[1].from.path: 'cells[*]' addresses several values; use child: to expand a list",
            "test.yaml:13:32: entities[2].from.path: 'cells[$index]' uses $child or [$index], which only a child entity has",
        ])
    }

    @Test("Commands are checked for component, options, ranges and $child")
    func commandChecks() {
        let yaml = """
            source: ocpp_csms
            commands:
              - id: reset
                component: select
                call: { method: POST, path: "/api/v1/point/$child/reset" }
              - id: current
                component: number
                call: { method: POST, path: /limit }
              - id: level
                component: sensor
                validate: { type: integer, pattern: "[0-9]+" }
                action: set_level
            """
        #expect(lint(yaml) == [
            "test.yaml:4:16: commands[0].component: an enum command needs options",
            "test.yaml:5:11: commands[0].call: the call uses $child, but the command has no child:",
            "test.yaml:7:16: commands[1].component: a number control needs min and max (Home Assistant would assume 1 to 100)",
            "test.yaml:10:16: commands[2].component: a command's component is switch, number, select, text or button; sensor is read-only",
            "test.yaml:11:15: commands[2].validate: pattern and max_length apply to type string, not integer",
        ])
    }

    @Test("lint of a folder reports load and lint errors of every file, in file order")
    func checkFolder() throws {
        try ConfigScratchDirectory.with { directory in
            try directory.write("a.yaml", """
                source: han
                entities:
                  - { id: power, from: { endpoint: meter, path: p }, device_class: power, unit: kWh }
                """)
            try directory.write("b.yaml", """
                source: bms
                entities:
                  - { id: soc, from: { endpoint: status, path: soc }, device_class: battery }
                  - { id: soc, from: { endpoint: status, path: soc2 } }
                """)
            try directory.write("notes.txt", "not a mapping")
            let errors = MappingLinter.check(builtIn: directory.path, environment: [:]).map(\.description)
            let a = (directory.path as NSString).appendingPathComponent("a.yaml")
            let b = (directory.path as NSString).appendingPathComponent("b.yaml")
            #expect(errors == [
                "\(a):3:81: entities[0].unit: 'kWh' is not a valid unit for device_class power (expected mW, W, kW, MW, GW, TW; use scale or convert to change units)",
                "\(b):4:11: entities[1].id: duplicate entity id 'soc' (first defined at line 3)",
            ])
        }
    }

    @Test("An entity, attribute source, child list or command state on an endpoint the adapter does not serve is an error at its position")
    func unservedEndpoints() throws {
        let yaml = """
            source: cozify_han
            entities:
              - id: power
                from: { endpoint: meter, path: "pi[0]" }
                device_class: power
              - id: typo
                from: { endpoint: metre, path: "pi[1]" }
                device_class: power
            commands:
              - id: fuse
                component: number
                min: 6
                max: 250
                state: { endpoint: config, path: m.f }
                validate: { type: integer, min: 6, max: 250 }
                call: { method: POST, path: /configuration, body: { m: { f: $value } } }
            """
        let mapping = try MappingLoader.load(yaml: yaml, file: "test.yaml")
        let errors = MappingLinter.unservedEndpoints(mapping, served: ["meter", "configuration"]).map(\.description)
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.first?.hasPrefix("test.yaml:7:") == true, "\(errors)")
        #expect(errors.allSatisfy { $0.contains("is not served by the cozify_han adapter (it serves configuration, meter)") })
        #expect(errors.contains { $0.contains("'metre'") } && errors.contains { $0.contains("'config'") })
        #expect(MappingLinter.unservedEndpoints(mapping, served: ["meter", "metre", "config"]).isEmpty)
    }
}
