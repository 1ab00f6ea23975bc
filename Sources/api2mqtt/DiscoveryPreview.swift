import ArgumentParser
import BridgeCore
import Logging

/// Builds the discovery messages a configuration would publish, without a broker: the bridge's
/// own device and, for each enabled source with a mapping, its main device.
enum DiscoveryPreview {
    static func messages(for configuration: BridgeConfiguration) async throws -> [DiscoveryMessage] {
        let broker = NullBroker()
        let logger = Logger(label: "api2mqtt.preview")
        let bridge = BridgeService(configuration: configuration, broker: broker, logger: logger)
        var messages = bridge.bridgeDeviceDiscovery()
        let enabled = configuration.sources.filter(\.enabled)
        guard !enabled.isEmpty else { return messages }
        guard let builtIn = MappingLocator.builtInDirectory() else {
            ConfigurationGate.printError("cannot find the built-in Mappings/ directory (set API2MQTT_MAPPINGS)")
            throw ExitCode.failure
        }
        let mappings: [String: MappingFile]
        do {
            mappings = try MappingLoader.load(builtIn: builtIn, overlay: configuration.mappings.directory)
        } catch {
            ConfigurationGate.printError(error.description)
            throw ExitCode.failure
        }
        for source in enabled {
            guard let mapping = mappings[source.type.rawValue] else {
                ConfigurationGate.printError("no mapping file for source type \(source.type.rawValue) in \(builtIn)")
                continue
            }
            let sourceBridge = SourceBridge(
                configuration: source, mapping: mapping, context: bridge.context, settings: configuration.publish,
                broker: broker, discovery: bridge.discovery, availability: bridge.availability, logger: logger)
            messages += await sourceBridge.discoveryMessages()
        }
        return messages
    }
}

/// A broker that accepts and drops everything (for previews).
struct NullBroker: BrokerConnection {
    func publish(_ message: OutboundMessage) async throws {}
    func enqueue(_ message: OutboundMessage) throws {}
    func subscribe(_ filter: String) async throws {}
    func unsubscribe(_ filter: String) {}
    var isConnected: Bool { false }
    var supportsProperties: Bool { true }
    var brokerDescription: String { "none" }
}
