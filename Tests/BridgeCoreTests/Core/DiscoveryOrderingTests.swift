import BridgeCore
import Synchronization
import TestSupport
import Testing

/// design.md: Home Assistant gets every config of a device before its first state. The broker
/// client sends QoS 0 (states) at once but holds QoS 1 (configs) beyond the broker's receive
/// maximum until earlier ones are acknowledged, so a state handed over while configs are still
/// unacknowledged can reach the broker first. These tests hand the bridge a broker that
/// acknowledges in order (as MQTT does) only what is awaited, and check what was still
/// unacknowledged whenever a state went out.
@Suite("Discovery before state")
struct DiscoveryOrderingTests {
    @Test("a document's new devices: every config is acknowledged before the first state goes out")
    func configsAcknowledgedBeforeStates() async throws {
        let broker = InOrderAckBroker()
        let context = DiscoveryContext(baseTopic: CoreTestSupport.base, discoveryPrefix: CoreTestSupport.prefix)
        let discovery = DiscoveryPublisher(context: context, broker: broker, logger: CoreTestSupport.logger)
        let bridge = SourcePublisher(
            configuration: CoreTestSupport.source(), mapping: try CoreTestSupport.mapping(), context: context,
            settings: PublishSettings(), broker: broker, discovery: discovery,
            availability: AvailabilityPublisher(context: context, broker: broker, logger: CoreTestSupport.logger),
            logger: CoreTestSupport.logger)
        await bridge.setOnline(true)
        let connectors = (1...300).map { #"{"id":"c\#($0)","label":"C\#($0)","power":\#($0)}"# }.joined(separator: ",")
        await bridge.ingest(endpoint: "points", document: CoreTestSupport.json(#"{"connectors":[\#(connectors)]}"#))
        await bridge.ingest(endpoint: "meter", document: CoreTestSupport.json(#"{"p":1200,"u_dv":2301}"#))

        let sent = broker.sent
        let states = sent.filter { $0.topic == "api2mqtt/han" || ($0.topic.hasPrefix("api2mqtt/han_c") && !$0.topic.hasSuffix("/availability")) }
        let configs = sent.filter { $0.topic.hasSuffix("/config") }
        #expect(configs.count >= 300 * 2, "every connector's configs (power and unlock) went out")
        #expect(Set(states.map(\.topic)).count == 301, "a state for every connector and the main device")
        for state in states {
            #expect(state.unacknowledgedConfigs == 0, "\(state.topic) went out with \(state.unacknowledgedConfigs) configs unacknowledged")
        }
        // And each device's configs went out before its state.
        for state in states {
            let device = String(state.topic.dropFirst("api2mqtt/".count))
            let last = sent.lastIndex { $0.topic.hasSuffix("/config") && $0.topic.split(separator: "/")[2] == device }
            #expect(last.map { $0 < state.index } == true, "\(device): a config after its first state")
        }
    }
}

/// Records every message with its position and, for states, how many QoS 1 messages were still
/// unacknowledged when it was handed over. A QoS 1 message is acknowledged when one handed over
/// after it is awaited (`publish`): the broker acknowledges in order.
private final class InOrderAckBroker: BrokerConnection, Sendable {
    struct Sent: Sendable {
        var index: Int
        var topic: String
        var unacknowledgedConfigs: Int
    }

    private struct State {
        var sent: [Sent] = []
        var unacknowledged = 0
    }

    private let state = Mutex(State())
    var sent: [Sent] { state.withLock { $0.sent } }
    var isConnected: Bool { true }
    let supportsProperties = true
    let brokerDescription = "memory://in-order"

    func publish(_ message: OutboundMessage) async throws {
        record(message)
        // The awaited message is acknowledged, and with it everything before it.
        state.withLock { $0.unacknowledged = 0 }
    }

    func enqueue(_ message: OutboundMessage) throws { record(message) }

    private func record(_ message: OutboundMessage) {
        state.withLock { state in
            state.sent.append(Sent(index: state.sent.count, topic: message.topic, unacknowledgedConfigs: state.unacknowledged))
            if message.qos > 0, message.topic.hasSuffix("/config") { state.unacknowledged += 1 }
        }
    }

    func subscribe(_ filter: String) async throws {}
    func unsubscribe(_ filter: String) {}
}
