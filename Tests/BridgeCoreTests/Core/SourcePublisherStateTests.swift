import BridgeCore
import Logging
import TestSupport
import Testing

@Suite("SourcePublisher state")
struct SourcePublisherStateTests {
    let device = "api2mqtt/han"

    @Test("a document becomes the device JSON on <base>/<device>, scaled, converted and rounded by the mapping, retained")
    func deviceJSON() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("meter", #"{"p": 1520, "u_dv": 2301.49, "e_wh": 1234567}"#)

        let messages = harness.messages(device)
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(message.retain)
        #expect(CoreTestSupport.parse(message) == ["power": 1520, "voltage": 230.1, "energy": 1234.567])
        #expect(String(decoding: message.payload, as: UTF8.self) == #"{"energy":1234.567,"power":1520,"voltage":230.1}"#)
        #expect(harness.broker.retained[device]?.payload == message.payload)
        #expect(await harness.bridge.currentValues(device: "han") == ["power": 1520, "voltage": 230.1, "energy": 1234.567])

        // The units and precision the values were scaled to are the ones discovery announces.
        let voltage = try #require(harness.retainedConfig("sensor", device: "han", entity: "voltage"))
        #expect(voltage["unit_of_measurement"] == "V")
        #expect(voltage["suggested_display_precision"] == 1)
        #expect(voltage["device_class"] == "voltage")
        #expect(voltage["state_class"] == "measurement")
        #expect(voltage["state_topic"] == "api2mqtt/han")
        #expect(voltage["value_template"] == "{{ value_json.voltage | default(None) }}")
        let energy = try #require(harness.retainedConfig("sensor", device: "han", entity: "energy"))
        #expect(energy["unit_of_measurement"] == "kWh")
        #expect(energy["state_class"] == "total_increasing")
    }

    @Test("retain: false publishes the device state unretained")
    func unretained() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(retain: false))
        await harness.ingest("meter", #"{"p": 1520}"#)
        let message = try #require(harness.messages(device).first)
        #expect(message.retain == false)
        #expect(harness.broker.retained[device] == nil)
    }

    @Test("an unchanged value is not republished before republish_interval; a change goes out at once")
    func republishInterval() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(republishInterval: .seconds(300)))
        await harness.ingest("meter", #"{"p": 1520}"#)
        #expect(harness.messages(device).count == 1)

        await harness.ingest("meter", #"{"p": 1520}"#)
        harness.clock.advance(.seconds(299))
        await harness.ingest("meter", #"{"p": 1520}"#)
        #expect(harness.messages(device).count == 1)

        harness.clock.advance(.seconds(1))
        await harness.ingest("meter", #"{"p": 1520}"#)
        #expect(harness.messages(device).count == 2)

        await harness.ingest("meter", #"{"p": 1521}"#)
        #expect(harness.states(device).map { $0["power"] } == [1520, 1520, 1521])
    }

    @Test("values that round to the same published number count as unchanged")
    func roundedValuesUnchanged() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(republishInterval: .seconds(300)))
        await harness.ingest("meter", #"{"u_dv": 2301.4}"#)
        await harness.ingest("meter", #"{"u_dv": 2301.2}"#)  // 230.14 V then 230.12 V: both 230.1
        #expect(harness.messages(device).count == 1)
        await harness.ingest("meter", #"{"u_dv": 2302.0}"#)
        #expect(harness.messages(device).count == 2)
    }

    @Test("attributes go out on change only, and again after a reconnect (republishState)")
    func attributesRepublished() async throws {
        let mapping = try MappingLoader.load(
            yaml: """
                source: cozify_han
                entities:
                  - { id: scan, from: { endpoint: scan, path: status }, json_attributes: result }
                """, file: "test.yaml")
        let harness = try BridgeHarness(mapping: mapping)
        let topic = "api2mqtt/han/scan/attributes"
        await harness.ingest("scan", #"{"status": "SCAN_SUCCESS", "result": {"networks": 2}}"#)
        await harness.ingest("scan", #"{"status": "SCAN_SUCCESS", "result": {"networks": 2}}"#)
        #expect(harness.broker.published(on: topic).count == 1)
        await harness.bridge.republishState()
        let sent = harness.broker.published(on: topic)
        #expect(sent.count == 2)
        #expect(sent.last.flatMap(CoreTestSupport.parse) == ["networks": 2])
    }

    @Test("a debounced entity holds a change until its window ends and tick() releases the newest value")
    func debounce() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("meter", #"{"fp": 100}"#)
        #expect(harness.states(device) == [["fast_power": 100]])

        harness.clock.advance(.seconds(1))
        await harness.ingest("meter", #"{"fp": 200}"#)
        await harness.bridge.tick()
        harness.clock.advance(.seconds(3))
        await harness.ingest("meter", #"{"fp": 300}"#)
        await harness.bridge.tick()
        #expect(harness.states(device).count == 1, "held inside the 5 s window")

        harness.clock.advance(.seconds(1))
        await harness.bridge.tick()
        #expect(harness.states(device) == [["fast_power": 100], ["fast_power": 300]], "released at the window's end, newest only")

        await harness.bridge.tick()
        #expect(harness.states(device).count == 2, "released once")
    }

    @Test("a debounced value that returns to the published one before the window ends publishes nothing")
    func debounceCancelled() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("meter", #"{"fp": 100}"#)
        harness.clock.advance(.seconds(1))
        await harness.ingest("meter", #"{"fp": 200}"#)
        harness.clock.advance(.seconds(1))
        await harness.ingest("meter", #"{"fp": 100}"#)
        harness.clock.advance(.seconds(10))
        await harness.bridge.tick()
        #expect(harness.states(device) == [["fast_power": 100]])
    }

    @Test("a total_increasing counter never goes backwards on the wire: a 0 or a drop is withheld")
    func counterGlitch() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("meter", #"{"p": 1, "e_wh": 1000000}"#)
        await harness.ingest("meter", #"{"p": 2, "e_wh": 0}"#)
        await harness.ingest("meter", #"{"p": 3, "e_wh": 999000}"#)
        await harness.ingest("meter", #"{"e_wh": 998000}"#)
        await harness.ingest("meter", #"{"p": 4, "e_wh": 1000500}"#)

        let states = harness.states(device)
        #expect(states.map { $0["power"] } == [1, 2, 3, 4])
        #expect(states.map { $0["energy"] } == [1000, 1000, 1000, 1000.5])
        let published = harness.messages(device).compactMap { CoreTestSupport.parse($0)?["energy"]?.numberValue }
        #expect(published.allSatisfy { $0 >= 1000 })
    }

    @Test("a first reading of exactly 0 is withheld until it persists")
    func firstZeroWithheld() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(counterResetReadings: 2))
        await harness.ingest("meter", #"{"e_wh": 0}"#)
        #expect(harness.messages(device).isEmpty)
        await harness.ingest("meter", #"{"e_wh": 0}"#)
        #expect(harness.messages(device).isEmpty, "enough readings, but not yet for five minutes")
        harness.clock.advance(.seconds(300))
        await harness.ingest("meter", #"{"e_wh": 0}"#)
        #expect(harness.states(device) == [["energy": 0]])
    }

    @Test("a fresh counter's first 0 is logged as waiting (notice), a drop after a value as going backwards (warning), once each")
    func counterLogs() async throws {
        let recorder = LogRecorder()
        let harness = try BridgeHarness(logger: Logger(label: "test") { _ in recorder })
        await harness.ingest("meter", #"{"e_wh": 0}"#)
        await harness.ingest("meter", #"{"e_wh": 0}"#)
        await harness.ingest("meter", #"{"e_wh": 1000000}"#)
        await harness.ingest("meter", #"{"e_wh": 0}"#)
        await harness.ingest("meter", #"{"e_wh": 0}"#)
        let counterLines = recorder.lines.filter { $0.contains("Counter") }
        #expect(counterLines.count == 2, "\(counterLines)")
        #expect(counterLines.first?.hasPrefix("notice Counter reads 0.0 before any other value") == true, "\(counterLines)")
        #expect(counterLines.last?.hasPrefix("warning Counter went backwards") == true, "\(counterLines)")
        #expect(counterLines.last?.contains("last=1000.0") == true, "\(counterLines)")
    }

    @Test("a counter reset that persists for counter_reset_readings readings is accepted, and one the source reports at once")
    func counterReset() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(counterResetReadings: 3))
        await harness.ingest("meter", #"{"e_wh": 1000000}"#)
        await harness.ingest("meter", #"{"e_wh": 5000}"#)
        await harness.ingest("meter", #"{"e_wh": 6000}"#)
        #expect(harness.states(device).map { $0["energy"] } == [1000], "two lower readings are still a glitch")

        await harness.ingest("meter", #"{"e_wh": 7000}"#)
        #expect(harness.states(device).map { $0["energy"] } == [1000], "three readings within seconds are still a glitch")
        harness.clock.advance(.seconds(300))
        await harness.ingest("meter", #"{"e_wh": 7000}"#)
        #expect(harness.states(device).map { $0["energy"] } == [1000, 7], "lower for five minutes: a new meter cycle")
        await harness.ingest("meter", #"{"e_wh": 7500}"#)
        #expect(harness.states(device).map { $0["energy"] } == [1000, 7, 7.5])

        await harness.ingest("meter", #"{"e_wh": 100}"#, sourceSaysReset: true)
        #expect(harness.states(device).map { $0["energy"] } == [1000, 7, 7.5, 0.1])
    }

    @Test("output: attribute publishes plain values on <base>/<device>/<entity> and no device JSON")
    func attributeOutput() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(output: .attribute, retain: false))
        await harness.ingest("meter", #"{"p": 1520, "u_dv": 2301.49}"#)

        #expect(harness.messages(device).isEmpty)
        #expect(harness.texts("api2mqtt/han/power") == ["1520"])
        #expect(harness.texts("api2mqtt/han/voltage") == ["230.1"])
        #expect(harness.messages("api2mqtt/han/voltage").allSatisfy { !$0.retain })

        await harness.ingest("meter", #"{"p": 1520, "u_dv": 2302.0}"#)
        #expect(harness.texts("api2mqtt/han/power") == ["1520"], "unchanged: not again")
        #expect(harness.texts("api2mqtt/han/voltage") == ["230.1", "230.2"])

        let voltage = try #require(harness.retainedConfig("sensor", device: "han", entity: "voltage"))
        #expect(voltage["state_topic"] == "api2mqtt/han/voltage")
        #expect(voltage["value_template"] == nil)
    }

    @Test("output: attribute_and_json publishes both forms")
    func attributeAndJSON() async throws {
        let harness = try BridgeHarness(settings: PublishSettings(output: .attributeAndJSON))
        await harness.ingest("meter", #"{"p": 1520}"#)
        #expect(harness.texts("api2mqtt/han/power") == ["1520"])
        #expect(harness.states(device) == [["power": 1520]])
        #expect(harness.messages("api2mqtt/han/power").allSatisfy { $0.retain })
    }

    @Test("republishState() publishes every device's current state again, unchanged or not")
    func republishState() async throws {
        let harness = try BridgeHarness()
        await harness.ingest("meter", #"{"p": 1520}"#)
        await harness.ingest("points", #"{"connectors": [{"id": "A", "power": 7000}]}"#)
        harness.broker.clearPublished()

        await harness.bridge.republishState()
        #expect(harness.states(device) == [["power": 1520]])
        #expect(harness.states("api2mqtt/han_a") == [["connector_power": 7000]])

        await harness.ingest("meter", #"{"p": 1520}"#)
        let afterOne = harness.states(device).count
        await harness.ingest("meter", #"{"p": 1520}"#)
        #expect(harness.states(device).count == afterOne, "the change filter is back in force afterwards")
    }

    @Test("a text control reads its own topic, published only once it has a value (HA has no 'unknown' text and refuses an empty one its pattern forbids)")
    func textOwnTopic() async throws {
        let yaml = """
            source: cozify_han
            entities:
              - { id: power, from: { endpoint: meter, path: p }, device_class: power }
            commands:
              - id: timezone
                component: text
                state: { endpoint: config, path: t }
                validate: { type: string, max_length: 64, pattern: '[A-Za-z]+(/[A-Za-z_]+)*' }
                call: { method: POST, path: /configuration, body: { t: $value } }
            """
        let harness = try BridgeHarness(mapping: try MappingLoader.load(yaml: yaml, file: "text.yaml"))
        await harness.ingest("meter", #"{"p": 100}"#)
        let config = try #require(harness.retainedConfig("text", device: "han", entity: "timezone"))
        #expect(config["state_topic"] == "api2mqtt/han/timezone")
        #expect(config["value_template"] == nil)
        #expect(harness.messages("api2mqtt/han/timezone").isEmpty, "no value yet: no message, so HA keeps it unknown")
        await harness.ingest("config", #"{"t": "Europe/Helsinki"}"#)
        #expect(harness.texts("api2mqtt/han/timezone") == ["Europe/Helsinki"])
        #expect(harness.broker.retained["api2mqtt/han/timezone"] != nil)
        #expect(harness.states("api2mqtt/han").last == ["power": 100, "timezone": "Europe/Helsinki"])
    }
}
