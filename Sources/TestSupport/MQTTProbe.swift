import Foundation
import Logging
import Mosquitto
import Synchronization

/// A subscriber for tests: connects to a broker, records every message it receives and lets the
/// test await the next one on a topic.
///
/// ```swift
/// try await MQTTProbe.with(broker) { probe in
///     try await probe.subscribe("api2mqtt/#")
///     let state = try await probe.next(on: "api2mqtt/bridge/state")
/// }
/// ```
public final class MQTTProbe: Sendable {
    public let client: MosquittoClient
    private let received = Mutex<[MQTTMessage]>([])
    private let cursor = Mutex<[String: Int]>([:])

    private init(client: MosquittoClient) {
        self.client = client
    }

    /// Runs `body` with a connected probe and disconnects afterwards.
    public static func with<T: Sendable>(
        _ broker: MosquittoBroker, protocolVersion: ProtocolVersion = .v5, clientID: String? = nil,
        username: String? = nil, password: String? = nil,
        _ body: @Sendable (MQTTProbe) async throws -> T
    ) async throws -> T {
        guard let parsed = MosquittoConfiguration.parseBrokerURL(broker.url) else {
            throw TestSupportError("bad broker url \(broker.url)")
        }
        let configuration = MosquittoConfiguration(
            scheme: parsed.scheme, host: parsed.host, port: parsed.port,
            clientID: clientID ?? "probe-\(UUID().uuidString.prefix(8))", username: username, password: password,
            protocolVersion: protocolVersion)
        let probe = MQTTProbe(client: try MosquittoClient(configuration: configuration, logger: Logger(label: "probe")))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await probe.client.run()
                return nil
            }
            group.addTask {
                for await message in probe.client.messages {
                    probe.received.withLock { $0.append(message) }
                }
                return nil
            }
            defer { group.cancelAll() }
            try await probe.client.waitUntilConnected(timeout: .seconds(10))
            let result = try await body(probe)
            group.cancelAll()
            return result
        }
    }

    /// Subscribes and waits for the SUBACK.
    public func subscribe(_ filter: String, qos: QoS = .atLeastOnce) async throws {
        try await client.subscribe(filter, qos: qos)
    }

    /// Every message received so far.
    public var messages: [MQTTMessage] { received.withLock { $0 } }

    /// Messages received so far on exactly `topic`.
    public func messages(on topic: String) -> [MQTTMessage] {
        received.withLock { $0.filter { $0.topic == topic } }
    }

    /// The next message on `topic` not yet returned by `next(on:)`, waiting up to `timeout`.
    public func next(on topic: String, timeout: Duration = .seconds(10)) async throws -> MQTTMessage {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found: MQTTMessage? = received.withLock { messages in
                let onTopic = messages.filter { $0.topic == topic }
                let index = cursor.withLock { $0[topic, default: 0] }
                guard index < onTopic.count else { return nil }
                cursor.withLock { $0[topic] = index + 1 }
                return onTopic[index]
            }
            if let found { return found }
            guard ContinuousClock.now < deadline else {
                throw TestSupportError("no message on \(topic) within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until a message on `topic` satisfies `predicate` (looking at all messages so far).
    public func first(
        on topic: String, timeout: Duration = .seconds(10),
        where predicate: @escaping @Sendable (MQTTMessage) -> Bool = { _ in true }
    ) async throws -> MQTTMessage {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = messages(on: topic).first(where: predicate) { return found }
            guard ContinuousClock.now < deadline else {
                throw TestSupportError("no matching message on \(topic) within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until a message with exactly `payload` has arrived on `topic`.
    public func first(on topic: String, payload: String, timeout: Duration = .seconds(10)) async throws -> MQTTMessage {
        try await first(on: topic, timeout: timeout, where: { $0.payloadString == payload })
    }
}
