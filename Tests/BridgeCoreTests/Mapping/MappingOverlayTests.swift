import Foundation
import Testing

@testable import BridgeCore

@Suite("Mapping overlays")
struct MappingOverlayTests {
    static let builtIn = """
        source: cozify_han
        device: { manufacturer: Cozify, model: HAN reader }
        entities:
          - id: power_import
            from: { endpoint: meter, path: "pi[0]" }
            device_class: power
          - id: energy_import
            from: { endpoint: meter, path: ic }
            device_class: energy
          - id: voltage_l1
            from: { endpoint: meter, path: "u[0]" }
            device_class: voltage
        commands:
          - id: spot_price
            component: switch
            state: { endpoint: configuration, path: s }
            call: { method: POST, path: /configuration, body: { s: $value } }
        """

    /// Writes the built-in file and an overlay into fresh folders and loads them.
    private func load(overlay: String, name: String = "han.yaml") throws -> [String: MappingFile] {
        try ConfigScratchDirectory.with { directory in
            try directory.write("cozify_han.yaml", Self.builtIn)
            let overlayDirectory = (directory.path as NSString).appendingPathComponent("user")
            try FileManager.default.createDirectory(atPath: overlayDirectory, withIntermediateDirectories: true)
            try Data(overlay.utf8).write(to: URL(fileURLWithPath: (overlayDirectory as NSString).appendingPathComponent(name)))
            return try MappingLoader.load(builtIn: directory.path, overlay: overlayDirectory, environment: [:])
        }
    }

    @Test("An overlay entry changes only the keys it writes")
    func overridesFields() throws {
        let mappings = try load(overlay: """
            source: cozify_han
            device: { model: P1 reader }
            entities:
              - id: power_import
                name: Grid import
                unit: kW
                scale: 0.001
            """)
        let mapping = try #require(mappings["cozify_han"])
        let power = try #require(mapping.entity("power_import"))
        #expect(power.name == "Grid import")
        #expect(power.unit == "kW" && power.stateClass == .measurement)
        #expect(power.sources.map(\.path.text) == ["pi[0]"])
        #expect(power.transforms == [.scale(0.001)])
        #expect(power.position(of: "unit").file.hasSuffix("user/han.yaml"))
        #expect(power.position(of: "from").file.hasSuffix("cozify_han.yaml"))
        #expect(mapping.device.literal(.manufacturer) == "Cozify" && mapping.device.literal(.model) == "P1 reader")
        #expect(mapping.overlays.count == 1)
        #expect(MappingLinter.lint(mapping) == [])
    }

    @Test("An overlay adds new entities and commands after the built-in ones")
    func extends() throws {
        let mappings = try load(overlay: """
            source: cozify_han
            entities:
              - id: frequency
                from: { endpoint: meter, path: f }
                device_class: frequency
            commands:
              - id: main_fuse
                component: number
                min: 10
                max: 63
                unit: A
                device_class: current
                call: { method: POST, path: /configuration, body: { f: $value } }
            """)
        let mapping = try #require(mappings["cozify_han"])
        #expect(mapping.entities.map(\.id) == ["power_import", "energy_import", "voltage_l1", "frequency"])
        #expect(mapping.entity("frequency")?.unit == "Hz")
        #expect(mapping.commands.map(\.id) == ["spot_price", "main_fuse"])
        #expect(mapping.command("main_fuse")?.validation == CommandValidation(kind: .number, min: 10, max: 63))
    }

    @Test("enabled: false removes a built-in entity or command")
    func disables() throws {
        let mappings = try load(overlay: """
            source: cozify_han
            entities:
              - { id: voltage_l1, enabled: false }
            commands:
              - { id: spot_price, enabled: false }
            """)
        let mapping = try #require(mappings["cozify_han"])
        #expect(mapping.entities.map(\.id) == ["power_import", "energy_import"])
        #expect(mapping.commands.isEmpty)
    }

    @Test("Defaults follow the overlay's device class")
    func defaultsAfterMerge() throws {
        let mappings = try load(overlay: """
            source: cozify_han
            entities:
              - { id: power_import, device_class: apparent_power }
            """)
        let power = try #require(mappings["cozify_han"]?.entity("power_import"))
        #expect(power.unit == "VA" && power.stateClass == .measurement)
    }

    @Test("An overlay's errors point into the overlay file")
    func overlayErrors() throws {
        do {
            _ = try load(overlay: """
                source: cozify_han
                entities:
                  - id: extra
                    device_class: power
                """)
            Issue.record("expected the overlay to be rejected")
        } catch let error as ConfigErrors {
            #expect(error.errors.count == 1)
            #expect(error.errors.first?.description.hasSuffix("user/han.yaml:3:5: entities[0]: missing required key 'from'") == true)
        }
    }

    @Test("An overlay for a source type with no built-in file adds it")
    func newSource() throws {
        let mappings = try load(overlay: """
            source: my_meter
            entities:
              - { id: power, from: { endpoint: data, path: p }, device_class: power }
            """)
        #expect(Set(mappings.keys) == ["cozify_han", "my_meter"])
        #expect(mappings["my_meter"]?.file.hasSuffix("user/han.yaml") == true)
    }

    @Test("A source's own overlay must name the same source type")
    func perSourceOverlay() throws {
        let base = try #require(MappingTestSupport.load(Self.builtIn))
        try ConfigScratchDirectory.with { directory in
            let good = try directory.write("good.yaml", "source: cozify_han\nentities:\n  - { id: energy_import, precision: 3 }\n")
            let merged = try MappingLoader.overlay(base, with: good, environment: [:])
            #expect(merged.entity("energy_import")?.precision == 3)

            let wrong = try directory.write("wrong.yaml", "source: tinybms\n")
            #expect(throws: ConfigErrors([ConfigError(file: wrong, line: 1, column: 9, keyPath: "source", message: "maps source type 'tinybms', but this source is 'cozify_han'")])) {
                try MappingLoader.overlay(base, with: wrong, environment: [:])
            }
        }
    }

    @Test("A missing built-in folder is an error without a position")
    func missingFolder() {
        #expect(throws: ConfigErrors([ConfigError(unpositionedIn: "/nonexistent/mappings", message: "cannot read mappings: '/nonexistent/mappings' does not exist")])) {
            try MappingLoader.load(builtIn: "/nonexistent/mappings", environment: [:])
        }
    }
}
