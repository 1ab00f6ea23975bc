import BridgeCore
import Synchronization
import TestSupport
import Testing

@Suite("DiscoveryPublisher")
struct DiscoveryPublisherTests {
    let broker = InMemoryBroker()
    let context = DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant")
    let publisher: DiscoveryPublisher

    init() {
        publisher = DiscoveryPublisher(context: context, broker: broker, logger: CoreTestSupport.logger)
    }

    func device(_ id: String, model: String? = nil) -> DiscoveryDevice { DiscoveryDevice(id: id, name: id.uppercased(), model: model) }

    func entity(_ id: String, name: String? = nil, component: HAComponent = .sensor) -> DiscoveryEntity {
        DiscoveryEntity(id: id, component: component, name: name)
    }

    func message(_ device: String, _ entity: String, in context: DiscoveryContext? = nil, name: String? = nil) -> DiscoveryMessage {
        (context ?? self.context).message(device: self.device(device), entity: self.entity(entity, name: name))
    }

    /// Announces `han` with `power` and `voltage` and `han_a` with `connector_power`.
    func announceTwoDevices() async {
        await publisher.update(device: device("han"), entities: [entity("power"), entity("voltage")])
        await publisher.update(device: device("han_a"), entities: [entity("connector_power")])
    }

    func payloads(_ topic: String) -> [[UInt8]] { broker.published(on: topic).map(\.payload) }

    @Test("update publishes new and changed configs retained at QoS 1, and nothing for unchanged ones")
    func update() async throws {
        let power = message("han", "power")
        let voltage = message("han", "voltage")
        await publisher.update(device: device("han"), entities: [entity("power"), entity("voltage")])
        #expect(broker.published.count == 2)
        #expect(broker.published.allSatisfy { $0.retain && $0.qos == 1 })
        #expect(payloads(power.topic) == [power.payload.jsonBytes])
        #expect(payloads(voltage.topic) == [voltage.payload.jsonBytes])
        #expect(await publisher.topics == [power.topic, voltage.topic])

        await publisher.update(device: device("han"), entities: [entity("power"), entity("voltage")])
        #expect(broker.published.count == 2)

        let renamed = message("han", "voltage", name: "Mains voltage")
        await publisher.update(device: device("han"), entities: [entity("power"), entity("voltage", name: "Mains voltage")])
        #expect(broker.published.count == 3)
        #expect(payloads(voltage.topic).last == renamed.payload.jsonBytes)
    }

    @Test("a changed device description republishes every config of the device, rendered with it")
    func updateDevice() async throws {
        await publisher.update(device: device("han"), entities: [entity("power"), entity("voltage")])
        broker.clearPublished()

        let described = device("han", model: "HAN port")
        await publisher.update(device: described, entities: [entity("power"), entity("voltage")])
        #expect(broker.published.count == 2)
        for id in ["power", "voltage"] {
            let expected = context.message(device: described, entity: entity(id))
            #expect(payloads(expected.topic) == [expected.payload.jsonBytes])
        }
    }

    @Test("an entity that changes component is cleared under its old topic and published under the new one")
    func updateComponent() async throws {
        await publisher.update(device: device("han"), entities: [entity("relay", component: .sensor)])
        broker.clearPublished()

        await publisher.update(device: device("han"), entities: [entity("relay", component: .binarySensor)])
        let old = context.message(device: device("han"), entity: entity("relay", component: .sensor))
        let new = context.message(device: device("han"), entity: entity("relay", component: .binarySensor))
        #expect(broker.published.map(\.topic) == [old.topic, new.topic])
        #expect(payloads(old.topic) == [[]])
        #expect(payloads(new.topic) == [new.payload.jsonBytes])
        #expect(await publisher.topics == [new.topic])
    }

    @Test("update clears what the device no longer has, and leaves other devices alone")
    func updateClears() async throws {
        let power = message("han", "power")
        let voltage = message("han", "voltage")
        let connector = message("han_a", "connector_power")
        await announceTwoDevices()
        broker.clearPublished()

        await publisher.update(device: device("han"), entities: [entity("power")])
        #expect(broker.published.map(\.topic) == [voltage.topic])
        #expect(payloads(voltage.topic) == [[]])
        #expect(broker.retained[voltage.topic] == nil)
        #expect(broker.retained[connector.topic] != nil)
        #expect(await publisher.topics == [power.topic, connector.topic])
    }

    @Test("remove clears every config of the given devices only")
    func remove() async throws {
        let power = message("han", "power")
        let a = message("han_a", "connector_power")
        let b = message("han_b", "connector_power")
        await publisher.update(device: device("han"), entities: [entity("power")])
        await publisher.update(device: device("han_a"), entities: [entity("connector_power")])
        await publisher.update(device: device("han_b"), entities: [entity("connector_power")])
        broker.clearPublished()

        await publisher.remove(devices: ["han_b"])
        #expect(broker.published.map(\.topic) == [b.topic])
        #expect(broker.published.first?.payload == [])
        #expect(broker.published.first?.retain == true)
        #expect(Set(broker.retained.keys) == [power.topic, a.topic])
        #expect(await publisher.topics == [power.topic, a.topic])

        await publisher.remove(devices: ["han_b"])
        #expect(broker.published.count == 1, "nothing left to clear")
    }

    @Test("republishAll sends every current config again")
    func republishAll() async throws {
        let messages = [message("han", "power"), message("han", "voltage"), message("han_a", "connector_power")]
        await announceTwoDevices()
        broker.clearPublished()

        #expect(await publisher.republishAll() == 3)
        #expect(Set(broker.published.map(\.topic)) == Set(messages.map(\.topic)))
        #expect(broker.published.allSatisfy { $0.retain && $0.qos == 1 })
        for message in messages { #expect(payloads(message.topic) == [message.payload.jsonBytes], "\(message.topic)") }
    }

    @Test("clearStale clears only retained configs of ours that are no longer produced")
    func clearStale() async throws {
        let current = message("han", "power")
        await publisher.update(device: device("han"), entities: [entity("power")])

        let stale = message("old_source", "gone")
        let otherInstance = message("garage", "power", in: DiscoveryContext(baseTopic: "api2mqtt_b", discoveryPrefix: "homeassistant"))
        let foreignTopic = "homeassistant/sensor/0x00158d0001/temperature/config"
        let foreign: JSONValue = [
            "unique_id": "0x00158d0001_temperature", "state_topic": "zigbee2mqtt/kitchen",
            "availability": [["topic": "zigbee2mqtt/bridge/state"]],
        ]
        let noAvailabilityTopic = "homeassistant/binary_sensor/door/contact/config"
        let bridgeStateNotFirstTopic = "homeassistant/sensor/han/legacy/config"
        let bridgeStateNotFirst: JSONValue = [
            "availability": [["topic": "api2mqtt/han/availability"], ["topic": "api2mqtt/bridge/state"]],
        ]
        let garbageTopic = "homeassistant/sensor/x/y/config"
        for seeded in [current, stale, otherInstance] {
            broker.seedRetained(topic: seeded.topic, payload: seeded.payload.jsonString)
        }
        broker.seedRetained(topic: foreignTopic, payload: foreign.jsonString)
        broker.seedRetained(topic: noAvailabilityTopic, payload: #"{"state_topic": "door/state"}"#)
        broker.seedRetained(topic: bridgeStateNotFirstTopic, payload: bridgeStateNotFirst.jsonString)
        broker.seedRetained(topic: garbageTopic, payload: "not json")
        broker.clearPublished()

        var delivered = broker.retainedMessages(matching: context.configFilter)
        #expect(delivered.count == 7)
        // A live (not retained) publish of a stale-looking config is not ours to judge.
        delivered.append(InboundMessage(topic: "homeassistant/sensor/old_source/live/config", payload: stale.payload.jsonBytes))
        let cleared = await publisher.clearStale(retained: delivered)

        #expect(cleared == [stale.topic])
        #expect(broker.published.map(\.topic) == [stale.topic])
        #expect(broker.published.first?.payload == [] && broker.published.first?.retain == true)
        #expect(broker.retained[stale.topic] == nil)
        for kept in [current.topic, otherInstance.topic, foreignTopic, noAvailabilityTopic, bridgeStateNotFirstTopic, garbageTopic] {
            #expect(broker.retained[kept] != nil, "\(kept)")
        }
        #expect(await publisher.topics == [current.topic])
    }

    @Test("clearStale keeps the configs of a device published under a node other than its id (an instance's bridge device on another base topic)")
    func clearStaleKeepsOtherNode() async throws {
        let context = DiscoveryContext(baseTopic: "api2mqtt_b", discoveryPrefix: "homeassistant")
        let publisher = DiscoveryPublisher(context: context, broker: broker, logger: CoreTestSupport.logger)
        var bridge = device("bridge")
        bridge.discoveryNode = "api2mqtt_b_bridge"
        await publisher.update(device: bridge, entities: [entity("version"), entity("restart", component: .button)])
        let gone = context.message(device: bridge, entity: entity("uptime"))
        let retained = (broker.retainedMessages(matching: context.configFilter) + [
            InboundMessage(topic: gone.topic, payload: gone.payload.jsonBytes, retain: true)
        ])
        #expect(retained.count == 3)
        #expect(retained.allSatisfy { $0.topic.contains("/api2mqtt_b_bridge/") }, "\(retained.map(\.topic))")
        broker.clearPublished()

        let cleared = await publisher.clearStale(retained: retained)
        #expect(cleared == [gone.topic], "only the entity no longer produced")
        #expect(broker.published.map(\.topic) == [gone.topic])
    }

    @Test("every call returns after the broker acknowledged its last config: several devices at once, removal, republish")
    func callsEndAcknowledged() async throws {
        let recorder = RecordingBroker()
        let publisher = DiscoveryPublisher(context: context, broker: recorder, logger: CoreTestSupport.logger)
        await publisher.update([
            (device("han"), [entity("power"), entity("voltage")]), (device("han_a"), [entity("connector_power")]),
            (device("han_b"), [entity("connector_power")]),
        ])
        #expect(recorder.calls.map(\.awaited) == [false, false, false, true])
        #expect(recorder.calls.last?.topic == message("han_b", "connector_power").topic)

        // Nothing changed: nothing sent, nothing awaited.
        await publisher.update([(device("han"), [entity("power"), entity("voltage")])])
        #expect(recorder.calls.count == 4)

        await publisher.remove(devices: ["han_a", "han_b"])
        #expect(recorder.calls.dropFirst(4).map(\.awaited) == [false, true])
        #expect(await publisher.republishAll() == 2)
        #expect(recorder.calls.dropFirst(6).map(\.awaited) == [false, true])
    }

    @Test("clearStale with nothing stale publishes nothing")
    func clearStaleNothing() async {
        await publisher.update(device: device("han"), entities: [entity("power")])
        broker.clearPublished()
        let retained = broker.retainedMessages(matching: context.configFilter)
        #expect(retained.map(\.topic) == [message("han", "power").topic])
        #expect(await publisher.clearStale(retained: retained).isEmpty)
        #expect(broker.published.isEmpty)
    }

    @Test("a burst of configs waits for an acknowledgement every window and for its last one, so the client never holds more than a window")
    func burstIsPaced() async throws {
        let recorder = RecordingBroker()
        let publisher = DiscoveryPublisher(context: context, broker: recorder, logger: CoreTestSupport.logger)
        let count = 2 * DiscoveryPublisher.window + 10
        let entities = (0..<count).map { entity("value_\($0)") }
        await publisher.update(device: device("csms_cp1"), entities: entities)
        let calls = recorder.calls
        #expect(calls.count == count)
        let awaited = calls.indices.filter { calls[$0].awaited }
        #expect(awaited == [DiscoveryPublisher.window, 2 * DiscoveryPublisher.window + 1, count - 1])
        #expect(Set(calls.map(\.topic)).count == count, "every config once")

        // Offline nothing waits: the client's offline queue takes them.
        recorder.connected.withLock { $0 = false }
        #expect(await publisher.republishAll() == count)
        #expect(recorder.calls.dropFirst(count).allSatisfy { !$0.awaited })
    }
}

/// Records whether each message was handed over (`enqueue`) or waited for (`publish`).
private final class RecordingBroker: BrokerConnection, Sendable {
    struct Call: Sendable {
        var topic: String
        var awaited: Bool
    }

    let recorded = Mutex<[Call]>([])
    let connected = Mutex(true)
    var calls: [Call] { recorded.withLock { $0 } }
    var isConnected: Bool { connected.withLock { $0 } }
    let supportsProperties = true
    let brokerDescription = "memory://recording"

    func publish(_ message: OutboundMessage) async throws { recorded.withLock { $0.append(Call(topic: message.topic, awaited: true)) } }
    func enqueue(_ message: OutboundMessage) throws { recorded.withLock { $0.append(Call(topic: message.topic, awaited: false)) } }
    func subscribe(_ filter: String) async throws {}
    func unsubscribe(_ filter: String) {}
}
