import Foundation
import Mosquitto
import Testing
import TestSupport

@Suite("Discovery and commands through the real executable", .serialized)
struct DiscoveryEndToEndTests {
    static let versionConfig = "homeassistant/sensor/bridge/version/config"

    @Test("the bridge device's discovery is retained, and republished when homeassistant/status turns online")
    func republishOnHomeAssistantOnline() async throws {
        try await MosquittoBroker.with { broker in
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("homeassistant/+/bridge/+/config")
                let first = try await probe.next(on: Self.versionConfig)
                let payload = try json(first)
                #expect(payload["unique_id"] as? String == "api2mqtt_bridge_version")
                #expect(payload["default_entity_id"] as? String == "sensor.bridge_version")
                #expect(payload["object_id"] == nil)
                try await probe.client.publish("homeassistant/status", string: "online", qos: .atLeastOnce)
                let again = try await probe.next(on: Self.versionConfig)
                #expect(again.payload == first.payload)
            }
        }
    }

    @Test("stale discovery of ours left from an earlier run is cleared; other instances' entries stay")
    func staleCleanup() async throws {
        try await MosquittoBroker.with { broker in
            try await MQTTProbe.with(broker) { probe in
                let ours = #"{"name":"Old","unique_id":"api2mqtt_gone_x","state_topic":"api2mqtt/gone","availability":[{"topic":"api2mqtt/bridge/state"}],"device":{"identifiers":["api2mqtt_gone"]}}"#
                let theirs = #"{"name":"Theirs","unique_id":"other_y","state_topic":"other/y","availability":[{"topic":"other/bridge/state"}],"device":{"identifiers":["other_y"]}}"#
                try await probe.client.publish("homeassistant/sensor/gone/x/config", string: ours, qos: .atLeastOnce, retain: true)
                try await probe.client.publish("homeassistant/sensor/other/y/config", string: theirs, qos: .atLeastOnce, retain: true)
            }
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker, extra: "publish:\n  stale_cleanup_window: 1s\n"))
            defer { bridge.stopAndRemoveFiles() }
            try await eventually(timeout: .seconds(15)) { bridge.log.contains("Removed stale discovery entries") }
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("homeassistant/sensor/+/+/config")
                _ = try await probe.first(on: "homeassistant/sensor/other/y/config")
                try await Task.sleep(for: .milliseconds(300))
                #expect(probe.messages(on: "homeassistant/sensor/gone/x/config").isEmpty)
            }
        }
    }

    @Test("a command gets exactly one result with the transaction, and with MQTT 5 also on the response topic")
    func commandResults() async throws {
        try await MosquittoBroker.with { broker in
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("api2mqtt/bridge/result")
                try await probe.subscribe("reply/commands")
                try await probe.subscribe("homeassistant/sensor/bridge/version/config")
                _ = try await probe.first(on: "homeassistant/sensor/bridge/version/config")
                try await eventually {
                    try await probe.client.publish(
                        "api2mqtt/bridge/republish_discovery/set", string: #"{"value":"PRESS","transaction":"t-9"}"#,
                        qos: .atLeastOnce,
                        properties: PublishProperties(responseTopic: "reply/commands", correlationData: [4, 2]))
                    try await Task.sleep(for: .milliseconds(200))
                    return !probe.messages(on: "api2mqtt/bridge/result").isEmpty
                }
                let results = probe.messages(on: "api2mqtt/bridge/result").map { try? json($0) }
                let result = try #require(results.first ?? nil)
                #expect(result["status"] as? String == "ok")
                #expect(result["entity"] as? String == "republish_discovery")
                #expect(result["transaction"] as? String == "t-9")
                let replied = try await probe.first(on: "reply/commands")
                #expect(replied.properties.correlationData == [4, 2])

                try await probe.subscribe("api2mqtt/nosuchdevice/result")
                try await probe.client.publish("api2mqtt/nosuchdevice/power/set", string: "1", qos: .atLeastOnce)
                let unknown = try json(try await probe.next(on: "api2mqtt/nosuchdevice/result", timeout: .seconds(5)))
                #expect(unknown["error_code"] as? String == "unknown_device")
                try await Task.sleep(for: .milliseconds(300))
                #expect(probe.messages(on: "api2mqtt/nosuchdevice/result").count == 1)
            }
        }
    }

    @Test("an MQTT 3.1.1 client gets its command result on the result topic")
    func v311Result() async throws {
        try await MosquittoBroker.with { broker in
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker, protocolVersion: .v311) { probe in
                try await probe.subscribe("api2mqtt/bridge/result")
                try await probe.subscribe("api2mqtt/bridge/state")
                _ = try await probe.first(on: "api2mqtt/bridge/state", payload: "online")
                try await eventually {
                    try await probe.client.publish("api2mqtt/bridge/restart/set", string: "PRESS", qos: .atLeastOnce)
                    try await Task.sleep(for: .milliseconds(200))
                    return !probe.messages(on: "api2mqtt/bridge/result").isEmpty
                }
                let result = try json(probe.messages(on: "api2mqtt/bridge/result")[0])
                // No source runs in this build, so restarting them is an error, reported once.
                #expect(result["status"] as? String == "error")
                #expect(result["error_code"] as? String == "call_failed")
            }
        }
    }

    @Test("retained commands are ignored and logged")
    func retainedCommand() async throws {
        try await MosquittoBroker.with { broker in
            try await MQTTProbe.with(broker) { probe in
                try await probe.client.publish(
                    "api2mqtt/bridge/republish_discovery/set", string: "PRESS", qos: .atLeastOnce, retain: true)
            }
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("api2mqtt/bridge/result")
                try await eventually { bridge.log.contains("Ignored a retained command") }
                try await Task.sleep(for: .milliseconds(300))
                #expect(probe.messages(on: "api2mqtt/bridge/result").isEmpty)
            }
        }
    }
}
