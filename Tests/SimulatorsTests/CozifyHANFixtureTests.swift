import BridgeCore
import Foundation
import Simulators
import Testing

/// Documents this simulator produces, kept next to the hand-written `cozify_han` fixtures of the mapping
/// tests in `Tests/BridgeCoreTests/Fixtures/cozify_han/simulator/`. The test checks that they still have
/// the shape (keys, array lengths, value types) the simulator produces; `UPDATE_GOLDEN=1 swift test
/// --filter CozifyHANFixtureTests` rewrites them after a deliberate change.
@Suite("Cozify HAN simulator: mapping fixtures")
struct CozifyHANFixtureTests {
    static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BridgeCoreTests/Fixtures/cozify_han/simulator")
    }

    /// File name → the document as the simulator answers it, as text.
    static func produce() async throws -> [String: [UInt8]] {
        try await withHAN { simulator, http in
            var documents: [String: [UInt8]] = [:]
            simulator.emitTelegramNow()
            for (file, path) in [
                ("meter.json", "/meter"), ("meter_id.json", "/meter/id"), ("han.json", "/han"),
                ("health.json", "/health"), ("configuration.json", "/configuration"),
            ] {
                let result = try await http.get(path)
                #expect(result.status == 200, "\(path)")
                documents[file] = result.body
            }
            let sse = try await SSEStream.open(http)
            defer { sse.cancel() }
            try await sse.events(atLeast: 1)
            try await eventually("the SSE stream to subscribe") { simulator.state.openStreams == 1 }
            simulator.emitTelegramNow()
            let meterEvent = try await sse.first { $0.event == "HAN_METER_MESSAGE" }
            documents["sse_meter_event.json"] = Array(meterEvent.data.utf8)
            return documents
        }
    }

    @Test("the fixtures have the shape the simulator produces (UPDATE_GOLDEN=1 rewrites them)")
    func fixtures() async throws {
        let update = ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1"
        let documents = try await Self.produce()
        #expect(documents.count == 6)
        for (file, document) in documents.sorted(by: { $0.key < $1.key }) {
            let url = Self.directory.appendingPathComponent(file)
            if update {
                try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
                let object = try JSONSerialization.jsonObject(with: Data(document))
                var data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                data.append(contentsOf: Array("\n".utf8))
                try data.write(to: url)
            } else {
                let stored = try #require(JSON.decode(try Data(contentsOf: url)), "\(file) is not JSON")
                let produced = try #require(JSON.decode(document), "the simulator's \(file) is not JSON")
                #expect(Self.shape(stored) == Self.shape(produced), "\(file) no longer matches the simulator")
            }
        }
    }

    /// The structure of a JSON document without its values: keys, array lengths and leaf types.
    static func shape(_ value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .array(let items): "[" + items.map(shape).joined(separator: ",") + "]"
        case .object(let members): "{" + members.sorted { $0.key < $1.key }.map { "\($0.key):\(shape($0.value))" }.joined(separator: ",") + "}"
        }
    }
}
