import Foundation
import Mosquitto
import Testing
import TestSupport

/// Issue #12 through the real executable and a real broker: garbage presses no bridge button,
/// a newline in a payload forges no log line, and no response topic lets a client write onto
/// the bridge's own topics.
@Suite("Command input through the real executable", .serialized)
struct CommandInputEndToEndTests {
    /// Waits until the bridge answers commands (a PRESS on republish_discovery), then returns
    /// how many results it has published.
    static func ready(_ probe: MQTTProbe) async throws -> Int {
        try await probe.subscribe("api2mqtt/bridge/result")
        try await eventually {
            try await probe.client.publish("api2mqtt/bridge/republish_discovery/set", string: "PRESS", qos: .atLeastOnce)
            try await Task.sleep(for: .milliseconds(200))
            return !probe.messages(on: "api2mqtt/bridge/result").isEmpty
        }
        return probe.messages(on: "api2mqtt/bridge/result").count
    }

    @Test("a payload carrying a forged log line is refused by the restart button and logged escaped on its own line")
    func forgedLogLine() async throws {
        try await MosquittoBroker.with { broker in
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker) { probe in
                let before = try await Self.ready(probe)
                let forged = "PRESS\n2026-12-07T05:00:00Z critical api2mqtt: [api2mqtt] forged"
                try await probe.client.publish("api2mqtt/bridge/restart/set", string: forged, qos: .atLeastOnce)
                // Commands to one device are answered in order: the sentinel's result comes last.
                try await probe.client.publish(
                    "api2mqtt/bridge/republish_discovery/set", string: #"{"value":"PRESS","transaction":"sentinel"}"#,
                    qos: .atLeastOnce)
                try await eventually { probe.messages(on: "api2mqtt/bridge/result").count >= before + 2 }
                let results = try probe.messages(on: "api2mqtt/bridge/result").dropFirst(before).map(json)
                #expect(results.count == 2)
                #expect(results.first?["entity"] as? String == "restart")
                #expect(results.first?["error_code"] as? String == "invalid_value")
                #expect(results.last?["transaction"] as? String == "sentinel")
                try await eventually { bridge.log.contains(#"\n2026-12-07T05:00:00Z critical"#) }
                let lines = bridge.log.split(separator: "\n")
                #expect(!lines.contains { $0.hasPrefix("2026-12-07T05:00:00Z critical") }, "no forged line")
            }
        }
    }

    @Test("a response topic on the bridge's own state topic is refused: bridge/state keeps its one 'online'")
    func responseTopicOnOwnState() async throws {
        try await MosquittoBroker.with { broker in
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("api2mqtt/bridge/state")
                _ = try await probe.first(on: "api2mqtt/bridge/state", payload: "online")
                let before = try await Self.ready(probe)
                try await probe.subscribe("reply/x")
                try await probe.client.publish(
                    "api2mqtt/bridge/republish_discovery/set", string: "nope", qos: .atLeastOnce,
                    properties: PublishProperties(responseTopic: "api2mqtt/bridge/state", correlationData: [1]))
                try await probe.client.publish(
                    "api2mqtt/no such/x/set", string: #"{"value":"PRESS","transaction":"t-x"}"#, qos: .atLeastOnce,
                    properties: PublishProperties(responseTopic: "reply/x", correlationData: [2]))
                let reply = try json(try await probe.next(on: "reply/x"))
                #expect(reply["error_code"] as? String == "unknown_device")
                #expect(reply["transaction"] as? String == "t-x")
                try await probe.client.publish(
                    "api2mqtt/bridge/republish_discovery/set", string: #"{"value":"PRESS","transaction":"sentinel"}"#,
                    qos: .atLeastOnce)
                try await eventually { probe.messages(on: "api2mqtt/bridge/result").count >= before + 2 }
                let results = try probe.messages(on: "api2mqtt/bridge/result").dropFirst(before).map(json)
                #expect(results.map { $0["status"] as? String } == ["error", "ok"])
                #expect(probe.messages(on: "api2mqtt/bridge/state").map(\.payloadString).allSatisfy { $0 == "online" })
                #expect(bridge.log.contains("Refused a command's MQTT 5 response topic"))
            }
        }
    }
}
