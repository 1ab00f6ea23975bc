import Logging

/// Publishes discovery config messages (retained, QoS 1) and keeps the broker's retained set in
/// step with what the mappings produce: new and changed entities are published, removed ones are
/// cleared with an empty retained payload, and everything is republished on every (re)connect and
/// when Home Assistant announces `online`.
///
/// Each call returns once the broker acknowledged the last config it sent (while connected), so
/// that what the caller publishes next (a device's first state, at QoS 0) reaches the broker
/// after every config: the broker client sends QoS 0 at once, but holds QoS 1 messages beyond
/// the broker's receive maximum (20 on a default mosquitto) until earlier ones are acknowledged,
/// so a state sent right after a burst would overtake most of it.
public actor DiscoveryPublisher {
    /// What one device has in Home Assistant: its description and its entities. A payload is a
    /// function of these (and the context), so it is rendered when it goes out and never kept:
    /// 1,000 charge points × 2 connectors have 32,000 configs of about 670 bytes, while the
    /// children of a kind share one array of entities.
    struct Announced: Equatable {
        var device: DiscoveryDevice
        var entities: [DiscoveryEntity]
    }

    /// At most this many configs are handed to the broker client before one waits for its
    /// acknowledgement (which comes after those before it: QoS 1 is acknowledged in order). The
    /// client copies every message it is handed until the broker acknowledges it, so a burst of
    /// 32,000 configs enqueued at once held about 20 MB there (and the allocator kept the pages).
    public static let window = 2_000

    private let context: DiscoveryContext
    private let broker: any BrokerConnection
    private let logger: Logger
    /// The desired state, by device id.
    private var current: [String: Announced] = [:]
    /// Configs handed over since the last one that waited for its acknowledgement.
    private var handedOver = 0
    /// The last config handed over while the broker was not connected (to the client's offline
    /// queue, sent after the connect behind the receive maximum): see ``settleOffline()``.
    private var lastOffline: OutboundMessage?

    public init(context: DiscoveryContext, broker: any BrokerConnection, logger: Logger) {
        self.context = context
        self.broker = broker
        self.logger = logger
    }

    /// Topics currently published.
    public var topics: Set<String> {
        var topics: Set<String> = []
        for announced in current.values {
            for entity in announced.entities { topics.insert(context.configTopic(device: announced.device, entity: entity)) }
        }
        return topics
    }

    /// Replaces the desired discovery of one device: publishes the entities that are new or
    /// changed (all of them when the device's description changed) and clears the ones it no
    /// longer has. Entities are keyed by their config topic (component and id); the last of two
    /// with the same topic wins.
    public func update(device: DiscoveryDevice, entities: [DiscoveryEntity]) async {
        await update([(device, entities)])
    }

    /// ``update(device:entities:)`` for several devices in turn (a document's new children),
    /// returning once the broker acknowledged the last config sent for any of them.
    public func update(_ devices: [(device: DiscoveryDevice, entities: [DiscoveryEntity])]) async {
        var burst = Burst()
        for (device, entities) in devices { await announce(device: device, entities: entities, in: &burst) }
        await settle(burst)
    }

    /// One call's configs: the last one is held back until ``settle(_:)``, which waits for it.
    /// Per call, not per actor: another call can run while one waits for an acknowledgement.
    struct Burst {
        var heldBack: OutboundMessage?
    }

    private func announce(device: DiscoveryDevice, entities: [DiscoveryEntity], in burst: inout Burst) async {
        let announced = Announced(device: device, entities: entities)
        let previous = current[device.id]
        if previous == announced { return }
        current[device.id] = announced
        guard let previous else {
            for entity in entities {
                await send(topic: context.configTopic(device: device, entity: entity), payload: context.payload(device: device, entity: entity).jsonBytes, in: &burst)
            }
            return
        }
        var wanted: [String: DiscoveryEntity] = [:]
        wanted.reserveCapacity(entities.count)
        for entity in entities { wanted[context.configTopic(device: device, entity: entity)] = entity }
        var before: [String: DiscoveryEntity] = [:]
        for entity in previous.entities { before[context.configTopic(device: previous.device, entity: entity)] = entity }
        for topic in before.keys.sorted() where wanted[topic] == nil { await send(topic: topic, payload: [], in: &burst) }
        let sameDevice = previous.device == device
        for (topic, entity) in wanted.sorted(by: { $0.key < $1.key }) where !(sameDevice && before[topic] == entity) {
            await send(topic: topic, payload: context.payload(device: device, entity: entity).jsonBytes, in: &burst)
        }
    }

    /// Clears every entity of the given devices (a child device that disappeared).
    public func remove(devices deviceIDs: Set<String>) async {
        var burst = Burst()
        for id in deviceIDs.sorted() {
            guard let announced = current.removeValue(forKey: id) else { continue }
            for topic in announced.entities.map({ context.configTopic(device: announced.device, entity: $0) }).sorted() {
                await send(topic: topic, payload: [], in: &burst)
            }
        }
        await settle(burst)
    }

    /// Publishes every current discovery message again (reconnect, `homeassistant/status` online,
    /// `bridge/request/discovery/republish`), rendered afresh.
    /// - Returns: how many messages went out.
    @discardableResult
    public func republishAll() async -> Int {
        var count = 0
        var burst = Burst()
        for id in current.keys.sorted() {
            guard let announced = current[id] else { continue }
            for message in announced.entities.map({ context.message(device: announced.device, entity: $0) }).sorted(by: { $0.topic < $1.topic }) {
                await send(topic: message.topic, payload: message.payload.jsonBytes, in: &burst)
                count += 1
            }
        }
        await settle(burst)
        return count
    }

    /// Clears retained discovery messages of ours (see `DiscoveryContext.isOurs`) that the current
    /// mappings no longer produce — left over from an earlier run with other mappings or sources.
    /// - Parameter retained: what the broker delivered for `configFilter` right after subscribing.
    /// - Returns: the topics cleared.
    @discardableResult
    public func clearStale(retained: [InboundMessage]) async -> [String] {
        var cleared: [String] = []
        var burst = Burst()
        // By the node in the topic, which is not always the device id: the bridge device of an
        // instance on another base topic is `bridge`, its node `<base>_bridge`. Looked up by id,
        // its configs read as stale and were cleared at every start (re-announced by the connect's
        // republish a moment later, until that no longer ran twice).
        var byNode: [String: Announced] = [:]
        for announced in current.values { byNode[announced.device.discoveryNode ?? announced.device.id] = announced }
        for message in retained where message.retain && !message.payload.isEmpty && !isCurrent(message.topic, byNode: byNode) {
            guard let payload = try? JSONValue.parse(message.payload), context.isOurs(payload) else { continue }
            await send(topic: message.topic, payload: [], in: &burst)
            cleared.append(message.topic)
        }
        await settle(burst)
        if !cleared.isEmpty {
            logger.notice("Removed stale discovery entries", metadata: ["count": "\(cleared.count)"])
        }
        return cleared
    }

    private func isCurrent(_ topic: String, byNode: [String: Announced]) -> Bool {
        guard let announced = byNode[Self.node(ofConfigTopic: topic) ?? ""] else { return false }
        return announced.entities.contains { context.configTopic(device: announced.device, entity: $0) == topic }
    }

    /// Hands a config to the broker client; every `window`-th waits for its acknowledgement while
    /// connected (offline, the client's bounded offline queue holds them). The last config of a
    /// call is held back until ``settle(_:)``, which waits for it.
    private func send(topic: String, payload: [UInt8], in burst: inout Burst) async {
        let message = OutboundMessage(topic: topic, payload: payload, qos: 1, retain: true)
        guard let previous = burst.heldBack else {
            burst.heldBack = message
            return
        }
        burst.heldBack = message
        if handedOver >= Self.window, broker.isConnected {
            await publishAwaited(previous)
        } else {
            handOver(previous)
        }
    }

    /// Sends the config held back and, while connected, waits for its acknowledgement: the
    /// broker acknowledges QoS 1 in order, so every config handed over before it is in too.
    private func settle(_ burst: Burst) async {
        guard let message = burst.heldBack else { return }
        if broker.isConnected {
            await publishAwaited(message)
        } else {
            handOver(message)
        }
    }

    private func publishAwaited(_ message: OutboundMessage) async {
        handedOver = 0
        do {
            try await broker.publish(message)
        } catch {
            logger.warning("Could not publish discovery", metadata: ["mqtt.topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    private func handOver(_ message: OutboundMessage) {
        handedOver += 1
        if !broker.isConnected { lastOffline = message }
        do {
            try broker.enqueue(message)
        } catch {
            logger.warning("Could not publish discovery", metadata: ["mqtt.topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    /// Once connected after configs went to the offline queue: sends the last of them again and
    /// waits for its acknowledgement, so that states published next do not overtake the queue
    /// (the connect's republish does the same, but a document can come first). A config sent
    /// twice is the same retained message twice.
    public func settleOffline() async {
        guard let message = lastOffline, broker.isConnected else { return }
        lastOffline = nil
        await publishAwaited(message)
    }

    /// `<prefix>/<component>/<node>/<entity>/config` → `<node>` (the device id, or its `discoveryNode`).
    static func node(ofConfigTopic topic: String) -> String? {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count >= 4, levels.last == "config" else { return nil }
        return String(levels[levels.count - 3])
    }
}
