import Logging

/// Publishes discovery config messages (retained, QoS 1) and keeps the broker's retained set in
/// step with what the mappings produce: new and changed entities are published, removed ones are
/// cleared with an empty retained payload, and everything is republished on every (re)connect and
/// when Home Assistant announces `online`.
public actor DiscoveryPublisher {
    private let context: DiscoveryContext
    private let broker: any BrokerConnection
    private let logger: Logger
    /// The desired state: the rendered payload by config topic, by device (a device's configs are
    /// found without looking at the others', and a payload is kept as its JSON text, a fraction
    /// of its `JSONValue` tree).
    private var current: [String: [String: [UInt8]]] = [:]

    public init(context: DiscoveryContext, broker: any BrokerConnection, logger: Logger) {
        self.context = context
        self.broker = broker
        self.logger = logger
    }

    /// Topics currently published.
    public var topics: Set<String> { Set(current.values.flatMap(\.keys)) }

    /// Replaces the desired set of discovery messages for the devices in `deviceIDs`, publishing
    /// what is new or changed and clearing what those devices no longer have.
    public func update(devices deviceIDs: Set<String>, messages: [DiscoveryMessage]) {
        var wanted: [String: [String: [UInt8]]] = [:]
        for message in messages {
            wanted[Self.deviceID(ofConfigTopic: message.topic) ?? "", default: [:]][message.topic] = message.payload.jsonBytes
        }
        for device in deviceIDs {
            for topic in current[device]?.keys.sorted() ?? [] where wanted[device]?[topic] == nil {
                clear(topic, of: device)
            }
        }
        for (device, payloads) in wanted {
            for (topic, payload) in payloads where current[device]?[topic] != payload {
                current[device, default: [:]][topic] = Self.compact(payload)
                send(topic: topic, payload: payload)
            }
        }
    }

    /// Clears every entity of the given devices (a child device that disappeared).
    public func remove(devices deviceIDs: Set<String>) {
        for device in deviceIDs {
            for topic in current[device]?.keys.sorted() ?? [] { clear(topic, of: device) }
        }
    }

    /// Publishes every current discovery message again (reconnect, `homeassistant/status` online,
    /// `bridge/request/discovery/republish`).
    /// - Returns: how many messages went out.
    @discardableResult
    public func republishAll() -> Int {
        var count = 0
        for device in current.keys.sorted() {
            guard let payloads = current[device] else { continue }
            for (topic, payload) in payloads.sorted(by: { $0.key < $1.key }) {
                send(topic: topic, payload: payload)
                count += 1
            }
        }
        return count
    }

    /// Clears retained discovery messages of ours (see `DiscoveryContext.isOurs`) that the current
    /// mappings no longer produce — left over from an earlier run with other mappings or sources.
    /// - Parameter retained: what the broker delivered for `configFilter` right after subscribing.
    /// - Returns: the topics cleared.
    @discardableResult
    public func clearStale(retained: [InboundMessage]) -> [String] {
        var cleared: [String] = []
        for message in retained where message.retain && !message.payload.isEmpty && !isCurrent(message.topic) {
            guard let payload = try? JSONValue.parse(message.payload), context.isOurs(payload) else { continue }
            send(topic: message.topic, payload: [])
            cleared.append(message.topic)
        }
        if !cleared.isEmpty {
            logger.notice("Removed stale discovery entries", metadata: ["count": "\(cleared.count)"])
        }
        return cleared
    }

    /// `payload` in storage of its own size: rendering grows its buffer by doubling, and what is
    /// kept here stays for the life of the process.
    static func compact(_ payload: [UInt8]) -> [UInt8] {
        var kept: [UInt8] = []
        kept.reserveCapacity(payload.count)
        kept.append(contentsOf: payload)
        return kept
    }

    private func isCurrent(_ topic: String) -> Bool {
        current[Self.deviceID(ofConfigTopic: topic) ?? ""]?[topic] != nil
    }

    private func clear(_ topic: String, of device: String) {
        current[device]?.removeValue(forKey: topic)
        if current[device]?.isEmpty == true { current.removeValue(forKey: device) }
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
