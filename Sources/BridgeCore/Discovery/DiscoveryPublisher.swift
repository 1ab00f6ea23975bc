import Logging

/// Publishes discovery config messages (retained, QoS 1) and keeps the broker's retained set in
/// step with what the mappings produce: new and changed entities are published, removed ones are
/// cleared with an empty retained payload, and everything is republished on every (re)connect and
/// when Home Assistant announces `online`.
public actor DiscoveryPublisher {
    private let context: DiscoveryContext
    private let broker: any BrokerConnection
    private let logger: Logger
    /// The desired state: payload by config topic.
    private var current: [String: JSONValue] = [:]

    public init(context: DiscoveryContext, broker: any BrokerConnection, logger: Logger) {
        self.context = context
        self.broker = broker
        self.logger = logger
    }

    /// Topics currently published.
    public var topics: Set<String> { Set(current.keys) }

    /// Replaces the desired set of discovery messages for the devices in `deviceIDs`, publishing
    /// what is new or changed and clearing what those devices no longer have.
    public func update(devices deviceIDs: Set<String>, messages: [DiscoveryMessage]) {
        let wanted = Dictionary(messages.map { ($0.topic, $0.payload) }, uniquingKeysWith: { _, last in last })
        let owned = current.keys.filter { topic in deviceIDs.contains(Self.deviceID(ofConfigTopic: topic) ?? "") }
        for topic in owned where wanted[topic] == nil {
            clear(topic)
        }
        for (topic, payload) in wanted where current[topic] != payload {
            current[topic] = payload
            send(topic: topic, payload: payload.jsonBytes)
        }
    }

    /// Clears every entity of the given devices (a child device that disappeared).
    public func remove(devices deviceIDs: Set<String>) {
        for topic in current.keys where deviceIDs.contains(Self.deviceID(ofConfigTopic: topic) ?? "") {
            clear(topic)
        }
    }

    /// Publishes every current discovery message again (reconnect, `homeassistant/status` online,
    /// `bridge/request/discovery/republish`).
    /// - Returns: how many messages went out.
    @discardableResult
    public func republishAll() -> Int {
        for (topic, payload) in current.sorted(by: { $0.key < $1.key }) {
            send(topic: topic, payload: payload.jsonBytes)
        }
        return current.count
    }

    /// Clears retained discovery messages of ours (see `DiscoveryContext.isOurs`) that the current
    /// mappings no longer produce — left over from an earlier run with other mappings or sources.
    /// - Parameter retained: what the broker delivered for `configFilter` right after subscribing.
    /// - Returns: the topics cleared.
    @discardableResult
    public func clearStale(retained: [InboundMessage]) -> [String] {
        var cleared: [String] = []
        for message in retained where message.retain && !message.payload.isEmpty && current[message.topic] == nil {
            guard let payload = try? JSONValue.parse(message.payload), context.isOurs(payload) else { continue }
            send(topic: message.topic, payload: [])
            cleared.append(message.topic)
        }
        if !cleared.isEmpty {
            logger.notice("Removed stale discovery entries", metadata: ["count": "\(cleared.count)"])
        }
        return cleared
    }

    private func clear(_ topic: String) {
        current.removeValue(forKey: topic)
        send(topic: topic, payload: [])
    }

    private func send(topic: String, payload: [UInt8]) {
        do {
            try broker.enqueue(OutboundMessage(topic: topic, payload: payload, qos: 1, retain: true))
        } catch {
            logger.warning("Could not publish discovery", metadata: ["mqtt.topic": "\(topic)", "error": "\(error)"])
        }
    }

    /// `<prefix>/<component>/<device>/<entity>/config` → `<device>`.
    static func deviceID(ofConfigTopic topic: String) -> String? {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count >= 4, levels.last == "config" else { return nil }
        return String(levels[levels.count - 3])
    }
}
