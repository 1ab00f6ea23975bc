import BridgeCore
import Synchronization

/// A `BrokerConnection` for BridgeCore unit tests: keeps every published message and a retained
/// store, and lets the test play the broker (deliver messages, drop the connection). No sockets.
public final class InMemoryBroker: BrokerConnection, Sendable {
    private struct State {
        var published: [OutboundMessage] = []
        var retained: [String: OutboundMessage] = [:]
        var subscriptions: [String] = []
        var connected = true
        var failPublishes = false
    }

    private let state = Mutex(State())
    public let supportsProperties: Bool
    public let brokerDescription = "memory://broker"

    public init(supportsProperties: Bool = true) {
        self.supportsProperties = supportsProperties
    }

    public func publish(_ message: OutboundMessage) async throws {
        try enqueue(message)
    }

    public func enqueue(_ message: OutboundMessage) throws {
        try state.withLock { state in
            if state.failPublishes { throw TestSupportError("publish refused by the in-memory broker") }
            state.published.append(message)
            if message.retain {
                if message.payload.isEmpty {
                    state.retained.removeValue(forKey: message.topic)
                } else {
                    state.retained[message.topic] = message
                }
            }
        }
    }

    public func subscribe(_ filter: String) async throws {
        state.withLock { $0.subscriptions.append(filter) }
    }

    public func unsubscribe(_ filter: String) {
        state.withLock { $0.subscriptions.removeAll { $0 == filter } }
    }

    public var isConnected: Bool {
        get { state.withLock { $0.connected } }
    }

    /// Simulates the connection going down or coming back.
    public func setConnected(_ connected: Bool) {
        state.withLock { $0.connected = connected }
    }

    /// Makes every publish throw (to test error paths).
    public func setFailPublishes(_ fail: Bool) {
        state.withLock { $0.failPublishes = fail }
    }

    /// Everything published, in order.
    public var published: [OutboundMessage] { state.withLock { $0.published } }

    /// Messages published on exactly `topic`.
    public func published(on topic: String) -> [OutboundMessage] { published.filter { $0.topic == topic } }

    /// The retained store (empty payloads delete, as on a real broker).
    public var retained: [String: OutboundMessage] { state.withLock { $0.retained } }

    /// Active subscriptions.
    public var subscriptions: [String] { state.withLock { $0.subscriptions } }

    /// Seeds the retained store, e.g. with discovery left from a previous run.
    public func seedRetained(topic: String, payload: String) {
        state.withLock { $0.retained[topic] = OutboundMessage(topic: topic, string: payload, qos: 1, retain: true) }
    }

    /// Retained messages matching `filter`, as they would be delivered on subscribe.
    public func retainedMessages(matching filter: String) -> [InboundMessage] {
        state.withLock { state in
            state.retained.values.filter { TopicFilter.matches(filter, $0.topic) }.sorted { $0.topic < $1.topic }
                .map { InboundMessage(topic: $0.topic, payload: $0.payload, retain: true) }
        }
    }

    /// Forgets what was published (the retained store stays).
    public func clearPublished() {
        state.withLock { $0.published.removeAll() }
    }
}
