import BridgeCore
import Foundation
import Testing

/// One sample entity per component, on a main device and (for the sensor) a child device.
enum DiscoverySamples {
    static let meter = DiscoveryDevice(
        id: "han", name: "HAN reader", manufacturer: "Cozify", model: "HAN reader", swVersion: "1.2.3",
        serialNumber: "7359992890941742", configurationURL: "http://192.168.1.50")
    static let connector = DiscoveryDevice(id: "garage_cp1_1", name: "CP1 connector 1", viaDevice: "garage_cp1")

    static let entities: [(name: String, device: DiscoveryDevice, entity: DiscoveryEntity)] = [
        (
            "sensor", meter,
            DiscoveryEntity(
                id: "power_import", component: .sensor, name: "Power import", deviceClass: "power",
                stateClass: "measurement", unit: "W", suggestedDisplayPrecision: 0, expireAfter: 60)
        ),
        (
            "sensor_child", connector,
            DiscoveryEntity(
                id: "session_energy", component: .sensor, deviceClass: "energy", stateClass: "total_increasing",
                unit: "kWh", suggestedDisplayPrecision: 3)
        ),
        (
            "sensor_enum", meter,
            DiscoveryEntity(
                id: "reader_state", component: .sensor, name: "Reader state", deviceClass: "enum",
                entityCategory: "diagnostic", options: ["CONNECTED", "DISCONNECTED", "NO_METER"])
        ),
        (
            "binary_sensor", meter,
            DiscoveryEntity(
                id: "online", component: .binarySensor, name: "Online", deviceClass: "connectivity",
                entityCategory: "diagnostic", hasAttributes: true)
        ),
        (
            "switch", meter,
            DiscoveryEntity(
                id: "spot_price", component: .switch, name: "Spot price", entityCategory: "config", writable: true)
        ),
        (
            "number", meter,
            DiscoveryEntity(
                id: "fixed_price", component: .number, name: "Fixed price", unit: "EUR/kWh", entityCategory: "config",
                writable: true, min: 0, max: 10, step: 0.01)
        ),
        (
            "select", meter,
            DiscoveryEntity(
                id: "stream_mode", component: .select, name: "Stream mode", entityCategory: "config", writable: true,
                options: ["sse", "websocket", "poll"])
        ),
        (
            "button", meter,
            DiscoveryEntity(
                id: "scan_networks", component: .button, name: "Scan WiFi networks", entityCategory: "config",
                writable: true, hasState: false)
        ),
        (
            "text", meter,
            DiscoveryEntity(
                id: "timezone", component: .text, name: "Timezone", entityCategory: "config", writable: true,
                maxLength: 64, pattern: "^[A-Za-z_/+-]+$")
        ),
        (
            "device_tracker", connector,
            DiscoveryEntity(id: "present", component: .deviceTracker, name: "Presence")
        ),
        (
            "event", meter,
            DiscoveryEntity(id: "alert", component: .event, name: "Alert", options: ["raised", "cleared"])
        ),
    ]
}

@Suite("Discovery payloads match their golden files")
struct DiscoveryGoldenTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/discovery").standardized

    @Test("each component's payload", arguments: DiscoverySamples.entities.map(\.name))
    func golden(name: String) throws {
        let sample = try #require(DiscoverySamples.entities.first { $0.name == name })
        let context = DiscoveryContext(
            baseTopic: "api2mqtt", discoveryPrefix: "homeassistant", build: BuildInfo(version: "0.1.0", commit: "test"))
        let message = context.message(device: sample.device, entity: sample.entity)
        let document: JSONValue = ["topic": .string(message.topic), "payload": message.payload]
        let file = Self.fixtures.appendingPathComponent("\(name).json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try (Self.pretty(document) + "\n").write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try JSONValue.parse(Data(contentsOf: file))
        #expect(document == golden, "regenerate with UPDATE_GOLDEN=1 swift test --filter DiscoveryGoldenTests after review")
    }

    @Test("attribute output points Home Assistant at the plain entity topic")
    func attributeOutput() throws {
        let context = DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant", output: .attribute)
        let payload = context.payload(device: DiscoverySamples.meter, entity: DiscoverySamples.entities[0].entity)
        #expect(payload["state_topic"] == "api2mqtt/han/power_import")
        #expect(payload["value_template"] == nil)
    }

    @Test("retained payloads of this instance are recognised by their bridge-state availability, others are not")
    func ownership() {
        let ours = DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant")
        let other = DiscoveryContext(baseTopic: "garage2mqtt", discoveryPrefix: "homeassistant")
        let payload = ours.payload(device: DiscoverySamples.meter, entity: DiscoverySamples.entities[0].entity)
        #expect(ours.isOurs(payload))
        #expect(!other.isOurs(payload))
        #expect(!ours.isOurs(["name": "zigbee thing"]))
    }

    static func pretty(_ value: JSONValue) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(value.jsonBytes), options: [.fragmentsAllowed])
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
