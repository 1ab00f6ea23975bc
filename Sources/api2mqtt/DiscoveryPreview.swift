import ArgumentParser
import BridgeCore
import Logging

/// Builds the discovery messages a configuration would publish, without a broker: the bridge's
/// own device and, for each enabled source with a mapping, its main device.
enum DiscoveryPreview {
    static func messages(for configuration: BridgeConfiguration) async throws -> [DiscoveryMessage] {
        let broker = NullBroker()
        let logger = Logger(label: "api2mqtt.preview")
        let bridge = Bridge(configuration: configuration, broker: broker, logger: logger)
        var messages = bridge.bridgeDeviceDiscovery()
        let enabled = configuration.sources.filter(\.enabled)
        guard !enabled.isEmpty else { return messages }
        // The same mappings `run` uses, with each source's own overlay.
        let mappings: [String: MappingFile]
        do {
            mappings = try loadMappings(configuration)
        } catch {
            ConfigurationGate.printError(String(describing: error))
            throw ExitCode.failure
        }
        for source in enabled {
            let mapping: MappingFile
            do {
                guard let found = try MappingLoader.mapping(for: source, in: mappings) else {
                    ConfigurationGate.printError("no mapping file for source type \(source.type.rawValue)")
                    continue
                }
                mapping = found
            } catch {
                ConfigurationGate.printError(String(describing: error))
                throw ExitCode.failure
            }
            let sourceBridge = SourcePublisher(
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
