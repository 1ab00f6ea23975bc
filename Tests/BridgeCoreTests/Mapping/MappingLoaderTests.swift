import Testing

@testable import BridgeCore

@Suite("MappingLoader")
struct MappingLoaderTests {
    static let example = """
        source: tinybms
        device:
          manufacturer: Energus
          model: TinyBMS
          sw_version: { from: { endpoint: status, path: firmware } }
        entities:
          - id: pack_voltage
            from:
              - { endpoint: status, path: battery.voltage_mv, scale: 0.001 }
              - { endpoint: status, path: battery.pack_voltage_v }
            device_class: voltage
            precision: 2
          - id: pack_power
            name: Pack power
            from: { endpoint: status, path: battery.power_w }
            device_class: power
            expire_after: 30s
            debounce: 500ms
          - id: energy_in
            from: { endpoint: status, path: battery.charged_wh }
            convert: Wh
            device_class: energy
          - id: status
            from: { endpoint: status, path: battery.status }
            map: { CHARGING: Charging, DISCHARGING: Discharging }
            device_class: enum
            options: [Charging, Discharging, Idle]
            json_attributes: battery.protection
            entity_category: diagnostic
            icon: mdi:battery
            enabled_by_default: false
          - id: cell_voltage
            child: { kind: cell, endpoint: status, list: ["cells[*]", battery.cell_voltage_mv], id: $index }
            from:
              - { path: voltage_mv, scale: 0.001 }
              - { path: "@", scale: 0.001 }
            device_class: voltage
            state_class: measurement
            unit: V
            precision: 3
          - id: charging_enabled
            component: switch
            from: { endpoint: config, path: charging }
        commands:
          - id: charging_enabled
            component: switch
            call: { method: post, path: /api/config, body: { charging: $value } }
          - id: max_current
            name: Maximum current
            component: number
            state: { endpoint: config, path: max_current_ma, scale: 0.001 }
            min: 1
            max: 100
            step: 0.5
            unit: A
            transforms: [ { scale: 1000 }, { round: 0 } ]
            call: { method: PUT, path: /api/config, query: { persist: "true" }, body: { max_current_ma: $value } }
          - id: acknowledge_alert
            validate: { type: integer, min: 1 }
            call: { method: POST, path: "/api/alerts/acknowledge/$value" }
          - id: restart
            component: button
            device_class: restart
            entity_category: config
            action: restart_bms
        """

    @Test("Reads every key and fills defaults from the device class table")
    func readsExample() throws {
        let mapping = try #require(MappingTestSupport.load(Self.example))
        #expect(mapping.source == "tinybms")
        #expect(mapping.device.fields[.manufacturer] == .literal("Energus"))
        #expect(mapping.entities.map(\.id) == ["pack_voltage", "pack_power", "energy_in", "status", "cell_voltage", "charging_enabled"])

        let voltage = try #require(mapping.entity("pack_voltage"))
        #expect(voltage.name == "Pack voltage")
        #expect(voltage.unit == "V")
        #expect(voltage.stateClass == .measurement)
        #expect(voltage.sources.map(\.path.text) == ["battery.voltage_mv", "battery.pack_voltage_v"])
        #expect(voltage.sources[0].transforms == [.scale(0.001)])
        #expect(voltage.sources[1].transforms == [])

        let power = try #require(mapping.entity("pack_power"))
        #expect(power.name == "Pack power")
        #expect((power.unit, power.stateClass) == ("W", .measurement))
        #expect(power.expireAfter == .seconds(30))
        #expect(power.debounce == .milliseconds(500))

        let energy = try #require(mapping.entity("energy_in"))
        #expect((energy.unit, energy.stateClass) == ("kWh", .totalIncreasing))
        #expect(energy.transforms == [.convert(from: "Wh", to: "kWh")])

        let status = try #require(mapping.entity("status"))
        #expect(status.unit == nil && status.stateClass == nil)
        #expect(status.options == ["Charging", "Discharging", "Idle"])
        #expect(status.attributesFrom?.endpoint == "status")
        #expect(status.entityCategory == .diagnostic && status.icon == "mdi:battery" && !status.enabledByDefault)

        let cells = try #require(mapping.entity("cell_voltage"))
        #expect(cells.child?.endpoint == "status")
        #expect(cells.child?.idParts == [.index])
        #expect(cells.sources.map(\.endpoint) == ["status", "status"])

        let current = try #require(mapping.command("max_current"))
        #expect(current.validation == CommandValidation(kind: .number, min: 1, max: 100))
        #expect(current.transforms == [.scale(1000), .round(0)])
        guard case .call(let call) = current.target else {
            Issue.record("expected a call")
            return
        }
        #expect(call.method == "PUT" && call.query == [QueryItem(name: "persist", value: "true")])

        #expect(mapping.command("charging_enabled")?.validation.kind == .boolean)
        #expect(mapping.command("acknowledge_alert")?.validation == CommandValidation(kind: .integer, min: 1))
        #expect(mapping.command("acknowledge_alert")?.component == nil)
        #expect(mapping.command("restart")?.target == .action("restart_bms"))
        #expect(mapping.endpoints == ["status", "config"])
    }

    @Test("The example lints clean")
    func exampleLintsClean() throws {
        let mapping = try #require(MappingTestSupport.load(Self.example))
        #expect(MappingLinter.lint(mapping).map(\.description) == [])
    }

    @Test("An unknown transform in a transforms list is named, with a suggestion")
    func unknownTransform() {
        let yaml = """
            source: han
            entities:
              - id: power
                from: { endpoint: meter, path: p }
                transforms:
                  - { scal: 2 }
                  - multiply: 3
            """
        #expect(MappingTestSupport.loadErrors(yaml) == [
            "test.yaml:6:11: entities[0].transforms[0].scal: unknown transform 'scal' (did you mean 'scale'?)",
            "test.yaml:7:9: entities[0].transforms[1].multiply: unknown transform 'multiply' (known: scale, offset, round, map, invert, convert, epoch)",
        ])
    }

    @Test("epoch takes s, ms or auto; anything else is an error with its position")
    func epochUnit() throws {
        let valid = try #require(MappingTestSupport.load("""
            source: han
            entities:
              - { id: seen, from: { endpoint: meter, path: ts }, epoch: auto, device_class: timestamp }
            """))
        #expect(valid.entities.first?.transforms == [.epoch(.auto)])
        let yaml = """
            source: han
            entities:
              - { id: seen, from: { endpoint: meter, path: ts }, epoch: minutes, device_class: timestamp }
            """
        #expect(MappingTestSupport.loadErrors(yaml) == [
            "test.yaml:3:61: entities[0].epoch: unknown epoch unit 'minutes' (known: s, ms, auto)"
        ])
    }

    @Test("An unknown key suggests the close one")
    func unknownKey() {
        let yaml = """
            source: han
            entities:
              - id: power
                from: { endpoint: meter, path: p }
                devce_class: power
                scal: 0.1
            """
        #expect(MappingTestSupport.loadErrors(yaml) == [
            "test.yaml:5:5: entities[0].devce_class: unknown key 'devce_class' (did you mean 'device_class'?)",
            "test.yaml:6:5: entities[0].scal: unknown key 'scal' (did you mean 'scale'?)",
        ])
    }

    @Test("A bad path points at the path with the character at fault")
    func badPath() {
        let yaml = """
            source: han
            entities:
              - id: power
                from: { endpoint: meter, path: "pi[0" }
            """
        #expect(MappingTestSupport.loadErrors(yaml) == [
            "test.yaml:4:36: entities[0].from.path: invalid path 'pi[0': expected ']' at character 5"
        ])
    }

    @Test("Missing keys, bad words and both call and action are reported together")
    func structuralErrors() {
        let yaml = """
            entities:
              - id: Power
                from: { endpoint: meter, path: p }
              - id: voltage
                component: gauge
              - id: current
                from: { endpoint: meter, path: i }
                state_class: average
                expire_after: 10
            commands:
              - id: reset
                call: { method: FETCH, path: reset }
                action: reset
            """
        #expect(MappingTestSupport.loadErrors(yaml) == [
            "test.yaml:1:1: missing required key 'source'",
            "test.yaml:2:9: entities[0].id: must be snake_case (a-z, 0-9 and '_', starting with a letter), got 'Power'",
            "test.yaml:5:16: entities[1].component: expected one of sensor, binary_sensor, switch, number, select, button, text, device_tracker, event, update, got 'gauge'",
            "test.yaml:8:18: entities[2].state_class: expected one of measurement, measurement_angle, total, total_increasing, none, got 'average'",
            "test.yaml:9:19: entities[2].expire_after: expected a duration with a unit, got '10' (write 10s)",
            "test.yaml:12:21: commands[0].call.method: expected one of GET, POST, PUT, PATCH, DELETE, got 'FETCH'",
            "test.yaml:12:34: commands[0].call.path: must start with '/', got 'reset'",
            "test.yaml:13:13: commands[0].action: give either call or action, not both",
        ])
    }

    @Test("An entity without from, or a source without an endpoint, is reported at the entity")
    func missingFrom() {
        let yaml = """
            source: han
            entities:
              - id: power
                device_class: power
              - id: voltage
                from: { path: u }
            """
        #expect(MappingTestSupport.loadErrors(yaml) == [
            "test.yaml:3:5: entities[0]: missing required key 'from'",
            "test.yaml:6:11: entities[1].from: missing required key 'endpoint'",
        ])
    }

    @Test("An id used twice in one file is reported at the repeat")
    func duplicateInFile() {
        let yaml = """
            source: han
            entities:
              - { id: power, from: { endpoint: meter, path: p } }
              - { id: power, from: { endpoint: meter, path: q } }
            """
        #expect(MappingTestSupport.loadErrors(yaml) == [
            "test.yaml:4:11: entities[1].id: duplicate entity id 'power' (first defined at line 3)"
        ])
    }

    @Test("convert without a unit to convert to is reported")
    func convertNeedsUnit() {
        let yaml = """
            source: han
            entities:
              - id: energy
                from: { endpoint: meter, path: e }
                convert: Wh
            """
        #expect(MappingTestSupport.loadErrors(yaml) == [
            "test.yaml:5:14: entities[0].convert: convert: Wh needs the entity's unit, or write { from: Wh, to: … }"
        ])
    }

    @Test("convert across quantities is reported")
    func convertAcrossQuantities() {
        let yaml = """
            source: han
            entities:
              - id: power
                from: { endpoint: meter, path: p }
                convert: { from: W, to: kWh }
            """
        #expect(MappingTestSupport.loadErrors(yaml) == ["test.yaml:5:14: entities[0].convert: cannot convert W to kWh"])
    }

    @Test("An unquoted bracket path in a flow mapping gets a hint")
    func flowPathHint() {
        let errors = MappingTestSupport.loadErrors("source: han\nentities:\n  - { id: p, from: { endpoint: m, path: pi[0] } }\n")
        #expect(errors.count == 1)
        #expect(errors.first?.hasSuffix(#"quote paths that contain [ ] or * (path: "pi[0]")"#) == true)
        let quoted = MappingTestSupport.load("source: han\nentities:\n  - { id: p, from: { endpoint: m, path: \"pi[0]\" } }\n")
        #expect(quoted?.entities.first?.sources.first?.path.text == "pi[0]")
    }

    @Test("A YAML syntax error carries its position")
    func syntaxError() {
        let errors = MappingTestSupport.loadErrors("source: han\nentities: [\n")
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("test.yaml:3:1: YAML syntax error") == true)
    }
}

@Suite("MappingLoader defaults")
struct MappingLoaderDefaultsTests {
    @Test("state_class: none switches off the device class's default; an explicit unit stays")
    func noStateClass() throws {
        let mapping = try #require(MappingTestSupport.load("""
            source: han
            entities:
              - { id: stored, from: { endpoint: m, path: e }, device_class: energy, state_class: none }
              - { id: power, from: { endpoint: m, path: p }, device_class: power, unit: kW }
              - { id: limit, component: number, from: { endpoint: m, path: l }, device_class: current, min: 6, max: 32 }
            """))
        #expect(mapping.entity("stored")?.unit == "kWh")
        #expect(mapping.entity("stored")?.stateClass == nil)
        #expect(mapping.entity("power")?.unit == "kW")
        #expect(mapping.entity("limit")?.unit == "A")
        #expect(mapping.entity("limit")?.stateClass == nil)
    }

    @Test("A writable entity's command inherits its child, options and range")
    func commandInherits() throws {
        let mapping = try #require(MappingTestSupport.load("""
            source: ocpp_csms
            entities:
              - id: max_current
                component: number
                child: { kind: connector, endpoint: point, list: connectors, id: connector_id }
                from: { path: limit }
                min: 6
                max: 32
                step: 1
            commands:
              - id: max_current
                call: { method: POST, path: "/api/v1/point/$child/limit", body: { a: $value } }
            """))
        let command = try #require(mapping.command("max_current"))
        #expect(command.child?.kind == "connector")
        #expect(command.component == .number)
        #expect(command.validation == CommandValidation(kind: .number, min: 6, max: 32))
        #expect((command.min, command.max, command.step) == (6, 32, 1))
        #expect(MappingLinter.lint(mapping).map(\.description) == [])
    }
}
