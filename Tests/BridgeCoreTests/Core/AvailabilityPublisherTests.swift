import BridgeCore
import TestSupport
import Testing

@Suite("AvailabilityPublisher")
struct AvailabilityPublisherTests {
    let broker = InMemoryBroker()
    let publisher: AvailabilityPublisher

    init() {
        let context = DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant")
        publisher = AvailabilityPublisher(context: context, broker: broker, logger: CoreTestSupport.logger)
    }

    func texts(_ device: String) -> [String] {
        broker.published(on: "api2mqtt/\(device)/availability").map { String(decoding: $0.payload, as: UTF8.self) }
    }

    @Test("publishes online/offline retained at QoS 1, only when it changes")
    func onChange() async {
        #expect(await publisher.isOnline("han") == nil)
        await publisher.set("han", online: true)
        await publisher.set("han", online: true)
        await publisher.set("han", online: false)
        await publisher.set("han", online: false)
        await publisher.set("han", online: true)
        #expect(texts("han") == ["online", "offline", "online"])
        #expect(broker.published.allSatisfy { $0.retain && $0.qos == 1 })
        #expect(await publisher.isOnline("han") == true)
        #expect(broker.retained["api2mqtt/han/availability"]?.payload == Array("online".utf8))
    }

    @Test("devices are independent")
    func independent() async {
        await publisher.set("han", online: true)
        await publisher.set("han_a", online: true)
        await publisher.set("han_a", online: false)
        #expect(texts("han") == ["online"])
        #expect(texts("han_a") == ["online", "offline"])
    }

    @Test("remove clears the retained availability once and forgets the device")
    func remove() async {
        await publisher.set("han_b", online: true)
        await publisher.remove("han_b")
        await publisher.remove("han_b")
        await publisher.remove("never_seen")
        #expect(broker.published(on: "api2mqtt/han_b/availability").map(\.payload) == [Array("online".utf8), []])
        #expect(broker.published(on: "api2mqtt/never_seen/availability").isEmpty)
        #expect(broker.retained["api2mqtt/han_b/availability"] == nil)
        #expect(await publisher.isOnline("han_b") == nil)

        await publisher.set("han_b", online: true)
        #expect(texts("han_b") == ["online", "", "online"], "a device that comes back is announced again")
    }

    @Test("held until opened: recorded but not published (not even by republishAll), then the latest of each goes out once")
    func heldUntilOpened() async {
        let held = AvailabilityPublisher(
            context: DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant"), broker: broker,
            heldUntilOpened: true, logger: CoreTestSupport.logger)
        await held.set("han", online: false)
        await held.set("han", online: true)
        await held.set("bms", online: false)
        await held.republishAll()
        #expect(broker.published.isEmpty)
        #expect(await held.isOnline("han") == true)
        await held.open()
        await held.open()
        #expect(texts("han") == ["online"])
        #expect(texts("bms") == ["offline"])
        await held.set("han", online: false)
        #expect(texts("han") == ["online", "offline"])
    }

    @Test("republishAll sends every known availability again")
    func republishAll() async {
        await publisher.set("han", online: true)
        await publisher.set("garage", online: false)
        broker.clearPublished()
        await publisher.republishAll()
        #expect(broker.published.map(\.topic) == ["api2mqtt/garage/availability", "api2mqtt/han/availability"])
        #expect(texts("garage") == ["offline"])
        #expect(texts("han") == ["online"])
    }
}
