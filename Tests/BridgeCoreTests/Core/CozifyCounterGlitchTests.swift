import BridgeCore
import Foundation
import Logging
import Testing
import TestSupport

@Suite("Energy glitch with the Cozify HAN mapping")
struct CozifyCounterGlitchTests {
    @Test("a meter document with ic 0 after a real reading publishes no lower energy")
    func glitch() async throws {
        let mappings = try MappingLoader.load(
            builtIn: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Mappings").standardized.path)
        let mapping = try #require(mappings["cozify_han"])
        let broker = InMemoryBroker()
        let context = DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant")
        let logger = Logger(label: "test")
        let bridge = SourcePublisher(
            configuration: SourceConfiguration(id: "han", type: .cozifyHAN), mapping: mapping, context: context,
            settings: PublishSettings(), broker: broker,
            discovery: DiscoveryPublisher(context: context, broker: broker, logger: logger),
            availability: AvailabilityPublisher(context: context, broker: broker, logger: logger), logger: logger)
        let good: JSONValue = ["type": "HAN_METER_MESSAGE", "ic": 12345.681, "ec": 10, "pi": [100, 0, 0]]
        let glitch: JSONValue = ["type": "HAN_METER_MESSAGE", "ic": 0, "ec": 0, "pi": [110, 0, 0]]
        await bridge.ingest(endpoint: "meter", document: good)
        await bridge.ingest(endpoint: "meter", document: glitch)
        let energies = broker.published(on: "api2mqtt/han").compactMap { message -> Double? in
            (try? JSONValue.parse(message.payload))?["energy_import"]?.numberValue
        }
        #expect(energies == [12345.681, 12345.681], "\(energies)")
    }
}
