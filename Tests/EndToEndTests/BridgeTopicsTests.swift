import Foundation
import Mosquitto
import Testing
import TestSupport

@Suite("bridge/request, bridge/info and secrets, through the real executable", .serialized)
struct BridgeTopicsTests {
    @Test("health_check answers on bridge/response with the transaction echoed; errors for unknown actions and bad JSON")
    func requests() async throws {
        try await MosquittoBroker.with { broker in
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("api2mqtt/bridge/#")
                _ = try await probe.first(on: "api2mqtt/bridge/state", payload: "online")
                try await eventually {
                    // The bridge subscribes right after connecting; retry until it answers.
                    try await probe.client.publish(
                        "api2mqtt/bridge/request/health_check", string: #"{"transaction":"tx-1"}"#, qos: .atLeastOnce)
                    try await Task.sleep(for: .milliseconds(200))
                    return !probe.messages(on: "api2mqtt/bridge/response/health_check").isEmpty
                }
                let response = try json(probe.messages(on: "api2mqtt/bridge/response/health_check")[0])
                #expect(response["status"] as? String == "ok")
                #expect(response["transaction"] as? String == "tx-1")
                #expect((response["data"] as? [String: Any])?["healthy"] as? Bool == true)

                try await probe.client.publish("api2mqtt/bridge/request/nope", string: #"{"transaction":7}"#, qos: .atLeastOnce)
                let unknown = try json(try await probe.next(on: "api2mqtt/bridge/response/nope"))
                #expect(unknown["status"] as? String == "error")
                #expect((unknown["error"] as? String)?.contains("unknown action 'nope'") == true)
                #expect(unknown["transaction"] as? Int == 7)

                try await probe.client.publish("api2mqtt/bridge/request/info", string: "{not json", qos: .atLeastOnce)
                let bad = try json(try await probe.next(on: "api2mqtt/bridge/response/info"))
                #expect(bad["status"] as? String == "error")
                #expect((bad["error"] as? String)?.contains("invalid JSON") == true)
            }
        }
    }

    @Test("MQTT 5 requests also get the response on their response topic with the correlation data")
    func responseTopic() async throws {
        try await MosquittoBroker.with { broker in
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("api2mqtt/bridge/state")
                try await probe.subscribe("reply/me")
                _ = try await probe.first(on: "api2mqtt/bridge/state", payload: "online")
                try await eventually {
                    try await probe.client.publish(
                        "api2mqtt/bridge/request/info", string: "{}", qos: .atLeastOnce,
                        properties: PublishProperties(responseTopic: "reply/me", correlationData: [9, 8, 7]))
                    try await Task.sleep(for: .milliseconds(200))
                    return !probe.messages(on: "reply/me").isEmpty
                }
                let reply = probe.messages(on: "reply/me")[0]
                #expect(reply.properties.correlationData == [9, 8, 7])
                #expect(try json(reply)["status"] as? String == "ok")
            }
        }
    }

    @Test("no secret from the configuration appears in any log line or in bridge/info")
    func secretsStayHidden() async throws {
        let secrets = ["mqtt-pass-4711", "source-pass-0815", "token-from-file-31337"]
        let directory = try TemporaryDirectory.make(prefix: "secrets")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token")
        try "\(secrets[2])\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        try await MosquittoBroker.with(.init(users: ["bridge": secrets[0]])) { broker in
            let yaml = bridgeYAML(
                broker: broker, mqttExtra: "  username: bridge\n  password: ${MQTT_PASSWORD}",
                extra: """
                    sources:
                      - id: portal
                        type: flowerhub
                        enabled: false
                        username: someone@example.com
                        password: \(secrets[1])
                      - id: han
                        type: cozify_han
                        enabled: false
                        url: http://127.0.0.1:1
                        token_file: \(tokenFile.path)
                    """
            ).replacingOccurrences(of: "level: debug", with: "level: trace")
            let bridge = try BridgeProcess.start(yaml: yaml, environment: ["MQTT_PASSWORD": secrets[0]])
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker, username: "bridge", password: secrets[0]) { probe in
                try await probe.subscribe("api2mqtt/bridge/#")
                let info = try await probe.first(on: "api2mqtt/bridge/info")
                #expect(info.payloadString.contains("***"))
                #expect(info.payloadString.contains("\"portal\""))
                for secret in secrets { #expect(!info.payloadString.contains(secret)) }
                try await probe.client.publish("api2mqtt/bridge/request/info", string: "{}", qos: .atLeastOnce)
                let answer = try await probe.first(on: "api2mqtt/bridge/response/info")
                for secret in secrets { #expect(!answer.payloadString.contains(secret)) }
            }
            bridge.stop()
            let log = bridge.log
            #expect(log.contains("Broker connected"))
            for secret in secrets { #expect(!log.contains(secret), "secret leaked into the log") }
        }
    }
}

func json(_ message: MQTTMessage) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(message.payload))
    return try #require(object as? [String: Any])
}
