import Foundation
import Logging
import Mosquitto
import Synchronization
import Testing
import TestSupport

/// Runs a client against `broker` for the duration of `body`.
func withClient<T: Sendable>(
    _ configuration: MosquittoConfiguration, waitForConnection: Bool = true,
    _ body: @Sendable (MosquittoClient) async throws -> T
) async throws -> T {
    let client = try MosquittoClient(configuration: configuration, logger: Logger(label: "test"))
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await client.run()
            return nil
        }
        defer { group.cancelAll() }
        if waitForConnection { try await client.waitUntilConnected(timeout: .seconds(60)) }
        let result = try await body(client)
        group.cancelAll()
        while let _ = try await group.next() {}
        return result
    }
}

func configuration(
    for broker: MosquittoBroker, clientID: String = "test-\(UUID().uuidString.prefix(6))",
    protocolVersion: ProtocolVersion = .v5
) throws -> MosquittoConfiguration {
    let parsed = try #require(MosquittoConfiguration.parseBrokerURL(broker.url))
    return MosquittoConfiguration(
        scheme: parsed.scheme, host: parsed.host, port: parsed.port, clientID: clientID,
        protocolVersion: protocolVersion, reconnectMaxDelay: 1, publishTimeout: .seconds(5))
}

@Suite("MosquittoClient against a real mosquitto", .serialized)
struct MosquittoClientTests {
    @Test("publishes and receives at QoS 0, 1 and 2")
    func roundTrip() async throws {
        try await MosquittoBroker.with { broker in
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("rt/#", qos: .exactlyOnce)
                try await withClient(try configuration(for: broker)) { client in
                    for qos in QoS.allCases {
                        try await client.publish("rt/\(qos.rawValue)", string: "payload \(qos.rawValue)", qos: qos)
                    }
                }
                for qos in QoS.allCases {
                    let message = try await probe.next(on: "rt/\(qos.rawValue)")
                    #expect(message.payloadString == "payload \(qos.rawValue)")
                    #expect(message.qos == qos)
                    #expect(message.retain == false)
                }
            }
        }
    }

    @Test("a retained message reaches a later subscriber with the retain flag")
    func retained() async throws {
        try await MosquittoBroker.with { broker in
            try await withClient(try configuration(for: broker)) { client in
                try await client.publish("keep/me", string: "42", qos: .atLeastOnce, retain: true)
            }
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("keep/#")
                let message = try await probe.next(on: "keep/me")
                #expect(message.payloadString == "42")
                #expect(message.retain)
            }
        }
    }

    @Test("MQTT 5 properties survive the round trip")
    func v5Properties() async throws {
        try await MosquittoBroker.with { broker in
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("props/#")
                let properties = PublishProperties(
                    responseTopic: "props/reply", correlationData: [0, 1, 2, 255], contentType: "application/json",
                    messageExpiryInterval: 120, payloadFormatIndicator: 1,
                    userProperties: [UserProperty("a", "1"), UserProperty("b", "2"), UserProperty("a", "3")])
                try await withClient(try configuration(for: broker)) { client in
                    try await client.publish("props/x", string: "{}", qos: .atLeastOnce, properties: properties)
                }
                let message = try await probe.next(on: "props/x")
                #expect(message.properties.responseTopic == "props/reply")
                #expect(message.properties.correlationData == [0, 1, 2, 255])
                #expect(message.properties.contentType == "application/json")
                #expect(message.properties.payloadFormatIndicator == 1)
                #expect((message.properties.messageExpiryInterval ?? 0) > 100)
                #expect(message.properties.userProperties == properties.userProperties)
            }
        }
    }

    @Test("request/response: a responder answers on the response topic with the correlation data")
    func requestResponse() async throws {
        try await MosquittoBroker.with { broker in
            try await withClient(try configuration(for: broker, clientID: "responder")) { responder in
                try await responder.subscribe("svc/request")
                let answering = Task {
                    for await request in responder.messages {
                        guard let topic = request.properties.responseTopic else { continue }
                        try await responder.publish(
                            topic, string: "pong", qos: .atLeastOnce,
                            properties: PublishProperties(correlationData: request.properties.correlationData))
                        return
                    }
                }
                try await MQTTProbe.with(broker) { probe in
                    try await probe.subscribe("svc/response/me")
                    try await probe.client.publish(
                        "svc/request", string: "ping", qos: .atLeastOnce,
                        properties: PublishProperties(responseTopic: "svc/response/me", correlationData: Array("c-17".utf8)))
                    let answer = try await probe.next(on: "svc/response/me")
                    #expect(answer.payloadString == "pong")
                    #expect(answer.properties.correlationData == Array("c-17".utf8))
                }
                try await answering.value
            }
        }
    }

    @Test("noLocal: a client does not get back what it publishes; messages retained before, and other clients' messages, still arrive")
    func noLocal() async throws {
        try await MosquittoBroker.with { broker in
            // Retained by an earlier connection of the same client id (the bridge's previous run).
            try await withClient(try configuration(for: broker, clientID: "no-local")) { client in
                try await client.publish("nl/old", string: "retained", qos: .atLeastOnce, retain: true)
            }
            try await MQTTProbe.with(broker, clientID: "no-local") { probe in
                try await probe.client.subscribe("nl/#", qos: .atLeastOnce, noLocal: true)
                #expect(try await probe.first(on: "nl/old", payload: "retained").retain)
                try await probe.client.publish("nl/own", string: "mine", qos: .atLeastOnce, retain: true)
                // Published after ours was acknowledged: the broker would have sent ours first.
                try await withClient(try configuration(for: broker)) { other in
                    try await other.publish("nl/other", string: "theirs", qos: .atLeastOnce)
                }
                _ = try await probe.first(on: "nl/other", payload: "theirs")
                #expect(probe.messages(on: "nl/own").isEmpty)
            }
            // MQTT 3.1.1 has no such option: the subscription is made, and own messages come back.
            try await MQTTProbe.with(broker, protocolVersion: .v311) { probe in
                try await probe.client.subscribe("nl/#", qos: .atLeastOnce, noLocal: true)
                _ = try await probe.first(on: "nl/own", payload: "mine")
                try await probe.client.publish("nl/v311", string: "back", qos: .atLeastOnce)
                _ = try await probe.first(on: "nl/v311", payload: "back")
            }
        }
    }

    @Test("MQTT 3.1.1 connects, publishes and receives (properties are not sent)")
    func v311() async throws {
        try await MosquittoBroker.with { broker in
            try await MQTTProbe.with(broker, protocolVersion: .v311) { probe in
                try await probe.subscribe("old/#")
                try await withClient(try configuration(for: broker, protocolVersion: .v311)) { client in
                    try await client.publish(
                        "old/x", string: "hi", qos: .atLeastOnce,
                        properties: PublishProperties(contentType: "text/plain"))
                }
                let message = try await probe.next(on: "old/x")
                #expect(message.payloadString == "hi")
                #expect(message.properties.contentType == nil)
            }
        }
    }

    @Test("birth message is published retained on connect, farewell on clean shutdown")
    func birthAndFarewell() async throws {
        try await MosquittoBroker.with { broker in
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("life/#")
                var config = try configuration(for: broker)
                config.will = OutgoingMessage(topic: "life/state", payload: "offline")
                config.birth = OutgoingMessage(topic: "life/state", payload: "online")
                config.farewell = OutgoingMessage(topic: "life/state", payload: "offline")
                try await withClient(config) { _ in }
                #expect(try await probe.next(on: "life/state").payloadString == "online")
                #expect(try await probe.next(on: "life/state").payloadString == "offline")
            }
        }
    }
}
