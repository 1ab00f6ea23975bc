import Foundation
import Testing

@testable import BridgeCore

/// `Fixtures/mapping/every-key.yaml` documents the mapping schema; it must load, lint clean,
/// and mention every key the reader accepts.
@Suite("The every-key mapping example")
struct MappingSchemaTests {
    /// The fixture's path, next to this file's folder.
    private static func fixturePath(filePath: String = #filePath) -> String {
        URL(fileURLWithPath: filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures/mapping/every-key.yaml")
            .path
    }

    private static func load() throws -> MappingFile {
        let mappings = try MappingLoader.load(builtIn: (fixturePath() as NSString).deletingLastPathComponent, environment: [:])
        return try #require(mappings["example_bms"])
    }

    @Test("Loads and lints clean")
    func loadsAndLints() throws {
        let mapping = try Self.load()
        #expect(MappingLinter.lint(mapping).map(\.description) == [])
        #expect(mapping.entity("old_entity") == nil && mapping.command("old_command") == nil)
        #expect(mapping.entity("pack_current")?.transforms == [.scale(0.001), .invert, .offset(0), .round(3)])
        #expect(mapping.command("charge_limit")?.validation == CommandValidation(kind: .number, min: 50, max: 100))
        #expect(mapping.command("reset_cell")?.child?.kind == "cell")
    }

    @Test("Mentions every key the reader accepts")
    func mentionsEveryKey() throws {
        let text = try String(contentsOfFile: Self.fixturePath(), encoding: .utf8)
        let keys = MappingReader.fileKeys + MappingReader.entityKeys + MappingReader.commandKeys + MappingReader.sourceKeys
            + MappingReader.childKeys + MappingReader.validationKeys + MappingReader.callKeys
            + DeviceTemplate.Field.allCases.map(\.rawValue)
        for key in Set(keys) {
            #expect(text.contains("\(key):"), "the example does not mention '\(key)'")
        }
    }

    @Test("Reads cells and commands from a telemetry document")
    func readsTelemetry() throws {
        let mapping = try Self.load()
        let document = MappingTestSupport.json(#"{"battery": {"cell_voltage_mv": [3301, 3305], "cell_balancing": [true, false]}}"#)
        let output = MappingEngine().readings(endpoint: "telemetry", document: document, mapping: mapping)
        #expect(output.readings.map { "\($0.entityID)/\($0.childID ?? "-")=\($0.value.rendered)" } == [
            "cell_voltage/0=3.301", "cell_balancing/0=ON", "cell_voltage/1=3.305", "cell_balancing/1=OFF",
        ])
        guard case .call(let call) = mapping.command("reset_cell")?.target, let child = output.children.last else {
            Issue.record("expected a call and a child")
            return
        }
        #expect(call.rendered(value: .null, childKey: child.key) == RenderedCall(method: "POST", path: "/api/cells/1/reset", body: ["cell": 1]))
    }
}
