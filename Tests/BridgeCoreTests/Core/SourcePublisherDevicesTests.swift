import Synchronization
import BridgeCore
import TestSupport
import Testing

@Suite("SourcePublisher devices and discovery")
struct SourcePublisherDevicesTests {
    static let twoConnectors = #"""
        {"connectors": [{"id": "A", "label": "Left", "power": 7000}, {"id": "B", "label": "Right", "power": 3500}]}
        """#
    static let connectorA = #"{"connectors": [{"id": "A", "label": "Left", "power": 7000}]}"#

    /// The discovery topics of child B's entities.
    static let childBConfigs = [
        "homeassistant/sensor/han_b/connector_power/config", "homeassistant/button/han_b/unlock/config",
    ]

    @Test("a child list creates child devices with their own state and via_device discovery")
    func childDevices() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("points", Self.twoConnectors)

        #expect(await harness.bridge.childDevices.map(\.id) == ["a", "b"])
        #expect(harness.states("api2mqtt/han_a") == [["connector_power": 7000]])
        #expect(harness.states("api2mqtt/han_b") == [["connector_power": 3500]])

        let power = try #require(harness.retainedConfig("sensor", device: "han_a", entity: "connector_power"))
        #expect(power["device"]?["via_device"] == "api2mqtt_han")
        #expect(power["device"]?["identifiers"] == ["api2mqtt_han_a"])
        #expect(power["device"]?["name"] == "Left")
        #expect(power["state_topic"] == "api2mqtt/han_a")
        #expect(power["unique_id"] == "api2mqtt_han_a_connector_power")
        #expect(power["availability"] == [["topic": "api2mqtt/bridge/state"], ["topic": "api2mqtt/han_a/availability"]])
        #expect(power["availability_mode"] == "all")

        let unlock = try #require(harness.retainedConfig("button", device: "han_b", entity: "unlock"))
        #expect(unlock["command_topic"] == "api2mqtt/han_b/unlock/set")
        #expect(unlock["state_topic"] == nil)

        // Child entities belong to the children only; the main device has no via_device.
        #expect(harness.retainedConfig("sensor", device: "han", entity: "connector_power") == nil)
        let main = try #require(harness.retainedConfig("sensor", device: "han", entity: "power"))
        #expect(main["device"]?["via_device"] == nil)
        #expect(main["device"]?["manufacturer"] == "Acme")
        #expect(main["device"]?["configuration_url"] == "http://192.168.1.50")
    }

    @Test("children that change places in their list keep their own state and record")
    func childrenChangingPlaces() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("points", Self.twoConnectors)
        await harness.ingest("points", #"{"connectors": [{"id": "B", "label": "Right", "power": 3600}, {"id": "A", "label": "Left", "power": 7100}]}"#)
        await harness.ingest("points", #"{"connectors": [{"id": "B", "label": "Right", "power": 3700}, {"id": "C", "label": "New", "power": 10}]}"#)
        #expect(harness.states("api2mqtt/han_a") == [["connector_power": 7000], ["connector_power": 7100]])
        #expect(harness.states("api2mqtt/han_b") == [["connector_power": 3500], ["connector_power": 3600], ["connector_power": 3700]])
        #expect(harness.states("api2mqtt/han_c") == [["connector_power": 10]])
        #expect(await harness.bridge.childDevices.map(\.name) == ["Left", "Right", "New"])
        #expect(harness.retainedConfig("sensor", device: "han_c", entity: "connector_power")?["device"]?["name"] == "New")

        // Renamed where it was: its discovery follows.
        await harness.ingest("points", #"{"connectors": [{"id": "B", "label": "Right", "power": 3700}, {"id": "C", "label": "Garage", "power": 10}]}"#)
        #expect(await harness.bridge.childDevices.map(\.name) == ["Left", "Right", "Garage"])
        #expect(harness.retainedConfig("sensor", device: "han_c", entity: "connector_power")?["device"]?["name"] == "Garage")
    }

    @Test("a list that misses a known child tells the supervisor; tick() returns when the removal (or a held value) is due")
    func pendingWork() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(childGracePeriod: .seconds(60)))
        let pokes = Mutex<[ContinuousClock.Instant?]>([])
        await harness.bridge.onPending { instant in pokes.withLock { $0.append(instant) } }
        let start = harness.clock.now
        await harness.ingest("points", Self.twoConnectors)
        #expect(pokes.withLock { $0.isEmpty }, "every known child listed: nothing pending")
        #expect(await harness.bridge.tick() == nil)

        harness.clock.advance(.seconds(10))
        await harness.ingest("points", Self.connectorA)
        #expect(pokes.withLock { $0 } == [nil], "b is missing: only tick() knows when it goes")
        #expect(await harness.bridge.tick() == start + .seconds(60), "b was last seen at the start")

        // A debounced value held until 5 s after its last publish comes first.
        await harness.ingest("meter", #"{"fp": 100}"#)
        harness.clock.advance(.seconds(1))
        await harness.ingest("meter", #"{"fp": 200}"#)
        #expect(pokes.withLock { $0.last } == .some(start + .seconds(15)))
        #expect(await harness.bridge.tick() == start + .seconds(15))

        harness.clock.advance(.seconds(4))
        #expect(await harness.bridge.tick() == start + .seconds(60), "released; the removal is next")
        harness.clock.advance(.seconds(45))
        #expect(await harness.bridge.tick() == nil, "b removed: nothing pending")
        #expect(await harness.bridge.childDevices.map(\.id) == ["a"])
    }

    @Test("a child missing from its list for child_grace_period is removed on tick(): discovery, availability and state cleared")
    func childRemoval() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(childGracePeriod: .seconds(60)))
        await harness.bridge.setOnline(true)
        await harness.ingest("points", Self.twoConnectors)
        #expect(harness.texts("api2mqtt/han_b/availability") == ["online"])
        for topic in Self.childBConfigs { #expect(harness.broker.retained[topic] != nil) }

        harness.clock.advance(.seconds(10))
        await harness.ingest("points", Self.connectorA)
        harness.clock.advance(.seconds(49))
        await harness.bridge.tick()
        #expect(await harness.bridge.childDevices.map(\.id) == ["a", "b"], "59 s unseen: still within the grace period")
        harness.broker.clearPublished()

        harness.clock.advance(.seconds(1))
        await harness.bridge.tick()
        #expect(await harness.bridge.childDevices.map(\.id) == ["a"])
        for topic in Self.childBConfigs {
            let cleared = harness.messages(topic)
            #expect(cleared.count == 1)
            #expect(cleared.first?.payload == [] && cleared.first?.retain == true && cleared.first?.qos == 1)
            #expect(harness.broker.retained[topic] == nil)
        }
        #expect(harness.messages("api2mqtt/han_b/availability").map(\.payload) == [[]])
        #expect(harness.broker.retained["api2mqtt/han_b/availability"] == nil)
        #expect(harness.broker.retained["api2mqtt/han_b"] == nil)
        #expect(await harness.availability.isOnline("han_b") == nil)
        #expect(await harness.discovery.topics.allSatisfy { !$0.contains("/han_b/") })

        // The child that is still listed is untouched.
        #expect(harness.broker.published.allSatisfy { !$0.topic.contains("han_a") })
        #expect(harness.broker.retained["homeassistant/sensor/han_a/connector_power/config"] != nil)
        #expect(harness.broker.retained["api2mqtt/han_a/availability"]?.payload == Array("online".utf8))

        await harness.bridge.tick()
        #expect(harness.messages("api2mqtt/han_b/availability").count == 1, "removed once")
    }

    @Test("a child is not removed while its list is absent from the documents (nothing says it is gone)")
    func childKeptWithoutList() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(childGracePeriod: .seconds(60)))
        await harness.ingest("points", Self.twoConnectors)
        harness.clock.advance(.seconds(3600))
        await harness.ingest("points", "{}")
        await harness.ingest("meter", #"{"p": 1}"#)
        await harness.bridge.tick()
        #expect(await harness.bridge.childDevices.map(\.id) == ["a", "b"])
    }

    @Test("a removed child that comes back gets discovery, availability and its state again")
    func childReturns() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(childGracePeriod: .seconds(60)))
        await harness.bridge.setOnline(true)
        await harness.ingest("points", Self.twoConnectors)
        harness.clock.advance(.seconds(1))
        await harness.ingest("points", Self.connectorA)
        harness.clock.advance(.seconds(60))
        await harness.bridge.tick()
        #expect(await harness.bridge.childDevices.map(\.id) == ["a"])
        harness.broker.clearPublished()

        harness.clock.advance(.seconds(1))
        await harness.ingest("points", Self.twoConnectors)
        #expect(await harness.bridge.childDevices.map(\.id) == ["a", "b"])
        for topic in Self.childBConfigs { #expect(harness.broker.retained[topic] != nil) }
        #expect(harness.texts("api2mqtt/han_b/availability") == ["online"])
        // Its state topic was cleared on removal, so the same value must go out again.
        #expect(harness.states("api2mqtt/han_b") == [["connector_power": 3500]])
        #expect(harness.broker.retained["api2mqtt/han_b"] != nil)
    }

    @Test("setOnline publishes retained availability for the main and every child device, only on change")
    func availability() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("points", Self.twoConnectors)
        #expect(harness.messages("api2mqtt/han/availability").isEmpty, "unknown health: nothing yet")

        await harness.bridge.setOnline(true)
        await harness.bridge.setOnline(true)
        for device in ["han", "han_a", "han_b"] {
            let messages = harness.messages("api2mqtt/\(device)/availability")
            #expect(messages.map { String(decoding: $0.payload, as: UTF8.self) } == ["online"], "\(device)")
            #expect(messages.allSatisfy { $0.retain && $0.qos == 1 })
        }

        await harness.bridge.setOnline(false)
        await harness.bridge.setOnline(false)
        for device in ["han", "han_a", "han_b"] {
            #expect(harness.texts("api2mqtt/\(device)/availability") == ["online", "offline"], "\(device)")
        }

        // A child that appears while the source's health is known gets it at once.
        await harness.ingest("points", #"{"connectors": [{"id": "A"}, {"id": "B"}, {"id": "C"}]}"#)
        #expect(harness.texts("api2mqtt/han_c/availability") == ["offline"])
        #expect(harness.texts("api2mqtt/han_a/availability") == ["online", "offline"])
    }

    @Test("writable entities carry command_topic; read-only ones do not")
    func commandTopics() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("points", Self.twoConnectors)
        let messages = await harness.bridge.discoveryMessages()
        let byTopic = Dictionary(messages.map { ($0.topic, $0.payload) }, uniquingKeysWith: { first, _ in first })

        let fuse = try #require(byTopic["homeassistant/number/han/fuse/config"])
        #expect(fuse["command_topic"] == "api2mqtt/han/fuse/set")
        #expect(fuse["state_topic"] == "api2mqtt/han")
        #expect(fuse["min"] == 10 && fuse["max"] == 63 && fuse["step"] == 1)
        #expect(fuse["unit_of_measurement"] == "A")

        let mode = try #require(byTopic["homeassistant/select/han/mode/config"])
        #expect(mode["command_topic"] == "api2mqtt/han/mode/set")
        #expect(mode["options"] == ["Eco", "Fast"])
        #expect(mode["value_template"] == "{{ value_json.mode | default(None) }}")

        let restart = try #require(byTopic["homeassistant/button/han/restart/config"])
        #expect(restart["command_topic"] == "api2mqtt/han/restart/set")
        #expect(restart["state_topic"] == nil)

        #expect(byTopic["homeassistant/button/han_a/unlock/config"]?["command_topic"] == "api2mqtt/han_a/unlock/set")

        for sensor in ["power", "voltage", "fast_power", "energy"] {
            let payload = try #require(byTopic["homeassistant/sensor/han/\(sensor)/config"])
            #expect(payload["command_topic"] == nil, "\(sensor)")
        }
        #expect(byTopic["homeassistant/sensor/han_a/connector_power/config"]?["command_topic"] == nil)
    }

    @Test("a command's state: endpoint feeds the device JSON")
    func commandState() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("config", #"{"fuse": 25, "mode": "Eco"}"#)
        #expect(harness.states("api2mqtt/han") == [["fuse": 25, "mode": "Eco"]])
    }

    @Test("a read_only source gets no command entities and no command_topic anywhere")
    func readOnlyNoCommands() async throws {
        let harness = try BridgeHarness(source: CoreTestSupport.source(readOnly: true))
        await harness.ingest("points", Self.twoConnectors)
        let messages = await harness.bridge.discoveryMessages()
        #expect(!messages.isEmpty)
        #expect(messages.allSatisfy { $0.payload["command_topic"] == nil })
        let topics = messages.map(\.topic)
        #expect(!topics.contains { $0.hasSuffix("/mode/config") || $0.hasSuffix("/restart/config") || $0.hasSuffix("/unlock/config") })
        #expect(topics.contains { $0.hasSuffix("/han/fuse/config") }, "the value itself is still shown")
    }

    @Test("read_only: no discovery payload is a command component without command_topic (Home Assistant requires it)")
    func readOnlyValidForHomeAssistant() async throws {
        let harness = try BridgeHarness(source: CoreTestSupport.source(readOnly: true))
        let messages = await harness.bridge.discoveryMessages()
        let commandComponents: Set<String> = ["number", "select", "switch", "text", "button"]
        for message in messages {
            let component = String(message.topic.split(separator: "/")[1])
            if commandComponents.contains(component) {
                #expect(message.payload["command_topic"] != nil, "\(message.topic): HA's MQTT_RW_SCHEMA requires command_topic")
            }
        }
        // The writable number of a read-only source is shown as a sensor instead.
        let fuse = try #require(messages.first { $0.topic.hasSuffix("/han/fuse/config") })
        #expect(fuse.topic == "homeassistant/sensor/han/fuse/config")
        #expect(fuse.payload["unit_of_measurement"] == "A")
        #expect(fuse.payload["value_template"] == "{{ value_json.fuse | default(None) }}")
    }

    @Test("discovery goes out once, and again only for what changed (device fields read from a document, model_id too)")
    func discoveryOnlyOnChange() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("meter", #"{"p": 1}"#)
        let powerConfig = "homeassistant/sensor/han/power/config"
        #expect(harness.messages(powerConfig).count == 1)
        await harness.ingest("meter", #"{"p": 2}"#)
        #expect(harness.messages(powerConfig).count == 1)

        await harness.ingest("info", #"{"fw": "1.2.3", "hw": "M3-EU"}"#)
        #expect(harness.messages(powerConfig).count == 2)
        let device = harness.retainedConfig("sensor", device: "han", entity: "power")?["device"]
        #expect(device?["sw_version"] == "1.2.3")
        #expect(device?["model_id"] == "M3-EU")
        #expect(device?["model"] == "Meter 3000")
        await harness.ingest("info", #"{"fw": "1.2.3", "hw": "M3-EU"}"#)
        #expect(harness.messages(powerConfig).count == 2)
    }
}
