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
    /// The test mapping's publisher, with its own discovery and availability, on `broker`.
    fileprivate static func publisher(on broker: InOrderAckBroker) throws -> SourcePublisher {
        let context = DiscoveryContext(baseTopic: CoreTestSupport.base, discoveryPrefix: CoreTestSupport.prefix)
        return SourcePublisher(
            configuration: CoreTestSupport.source(), mapping: try CoreTestSupport.mapping(), context: context,
            settings: PublishSettings(), broker: broker,
            discovery: DiscoveryPublisher(context: context, broker: broker, logger: CoreTestSupport.logger),
            availability: AvailabilityPublisher(context: context, broker: broker, logger: CoreTestSupport.logger),
            logger: CoreTestSupport.logger)
    }

    @Test("a document's new devices: every config is acknowledged before the first state goes out")
    func configsAcknowledgedBeforeStates() async throws {
        let broker = InOrderAckBroker()
        let bridge = try Self.publisher(on: broker)
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

extension DiscoveryOrderingTests {
    @Test("a document taken while another's discovery waits for the broker holds its states back until that is acknowledged")
    func documentDuringDiscovery() async throws {
        let broker = InOrderAckBroker(gated: true)
        let bridge = try Self.publisher(on: broker)
        await bridge.setOnline(true)
        let connectors = (1...50).map { #"{"id":"c\#($0)","label":"C\#($0)","power":\#($0)}"# }.joined(separator: ",")
        let isState = { (topic: String) in
            topic == "api2mqtt/han" || (topic.hasPrefix("api2mqtt/han_c") && !topic.hasSuffix("/availability"))
        }
        let first = Task { await bridge.ingest(endpoint: "points", document: CoreTestSupport.json(#"{"connectors":[\#(connectors)]}"#)) }
        #expect(await CoreTestSupport.eventually { broker.waiting > 0 }, "the first document's discovery waits for the broker")
        // The main device's readings: its discovery is part of the first document's, still on its
        // way. Without the hold its state went out now, before its configs were acknowledged.
        let second = Task { await bridge.ingest(endpoint: "meter", document: CoreTestSupport.json(#"{"p":1200,"u_dv":2301}"#)) }
        _ = await CoreTestSupport.eventually(attempts: 2_000) { broker.sent.contains { $0.topic == "api2mqtt/han" } }
        broker.open()
        await first.value
        await second.value
        let states = broker.sent.filter { isState($0.topic) }
        #expect(Set(states.map(\.topic)).count == 51, "the main device's and every connector's state")
        for state in states {
            #expect(state.unacknowledgedConfigs == 0, "\(state.topic) went out with \(state.unacknowledgedConfigs) configs unacknowledged")
        }
    }
}

extension DiscoveryOrderingTests {
    @Test("configs handed over before the connection was up: the first states after the connect wait until the broker has them")
    func configsFromBeforeTheConnect() async throws {
        let broker = InOrderAckBroker()
        broker.setConnected(false)
        let bridge = try Self.publisher(on: broker)
        let connectors = (1...30).map { #"{"id":"c\#($0)","label":"C\#($0)","power":\#($0)}"# }.joined(separator: ",")
        await bridge.ingest(endpoint: "points", document: CoreTestSupport.json(#"{"connectors":[\#(connectors)]}"#))
        broker.setConnected(true)
        let again = (1...30).map { #"{"id":"c\#($0)","label":"C\#($0)","power":\#($0 + 100)}"# }.joined(separator: ",")
        await bridge.ingest(endpoint: "points", document: CoreTestSupport.json(#"{"connectors":[\#(again)]}"#))
        let states = broker.sent.filter { $0.connected && $0.topic.hasPrefix("api2mqtt/han_c") && !$0.topic.hasSuffix("/availability") }
        #expect(Set(states.map(\.topic)).count == 30)
        for state in states {
            #expect(state.unacknowledgedConfigs == 0, "\(state.topic) went out with \(state.unacknowledgedConfigs) configs unacknowledged")
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
        /// Whether the broker was connected (offline, a client drops states).
        var connected: Bool
    }

    private struct State {
        var sent: [Sent] = []
        var unacknowledged = 0
        var open: Bool
        var waiters: [CheckedContinuation<Void, Never>] = []
        var connected = true
    }

    private let state: Mutex<State>
    var sent: [Sent] { state.withLock { $0.sent } }
    /// Awaited publishes held by the gate.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// - Parameter gated: awaited publishes wait until ``open()``.
    init(gated: Bool = false) {
        state = Mutex(State(open: !gated))
    }

    /// Lets every held and later awaited publish complete.
    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
    var isConnected: Bool { state.withLock { $0.connected } }
    func setConnected(_ connected: Bool) { state.withLock { $0.connected = connected } }
    let supportsProperties = true
    let brokerDescription = "memory://in-order"

    func publish(_ message: OutboundMessage) async throws {
        record(message)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
        // The awaited message is acknowledged, and with it everything before it.
        state.withLock { $0.unacknowledged = 0 }
    }

    func enqueue(_ message: OutboundMessage) throws { record(message) }

    private func record(_ message: OutboundMessage) {
        state.withLock { state in
            state.sent.append(
                Sent(index: state.sent.count, topic: message.topic, unacknowledgedConfigs: state.unacknowledged, connected: state.connected))
            if message.qos > 0, message.topic.hasSuffix("/config") { state.unacknowledged += 1 }
        }
    }

    func subscribe(_ filter: String) async throws {}
    func unsubscribe(_ filter: String) {}
}
