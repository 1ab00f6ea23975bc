import BridgeCore
import Mosquitto
import ServiceLifecycle

/// The only place that joins `Mosquitto` to `BridgeCore`: adapts the libmosquitto client to the
/// core's `BrokerConnection` port (for the executable, and for in-process runs of the same wiring).
public struct MosquittoBrokerConnection: BrokerConnection {
    public let client: MosquittoClient

    public init(client: MosquittoClient) {
        self.client = client
    }

    public func publish(_ message: BridgeCore.OutboundMessage) async throws {
        try await client.publish(
            message.topic, payload: message.payload, qos: QoS(rawValue: Int32(message.qos)) ?? .atLeastOnce,
            retain: message.retain, properties: message.properties)
    }

    public func enqueue(_ message: BridgeCore.OutboundMessage) throws {
        try client.send(
            message.topic, payload: message.payload, qos: QoS(rawValue: Int32(message.qos)) ?? .atLeastOnce,
            retain: message.retain, properties: message.properties)
    }

    public func subscribe(_ filter: String) async throws {
        try await client.subscribe(filter, qos: .atLeastOnce)
    }

    public func subscribeIgnoringOwnMessages(_ filter: String) async throws {
        try await client.subscribe(filter, qos: .atLeastOnce, noLocal: true)
    }

    public func unsubscribe(_ filter: String) {
        client.unsubscribe(filter)
    }

    public var isConnected: Bool { client.isConnected }
    public var supportsProperties: Bool { client.configuration.protocolVersion == .v5 }
    public var brokerDescription: String { client.configuration.brokerDescription }
}

extension BridgeCore.OutboundMessage {
    var properties: PublishProperties {
        PublishProperties(responseTopic: responseTopic, correlationData: correlationData, contentType: contentType)
    }
}

/// Feeds what the broker client receives to the core: messages to the bridge's handlers,
/// connection changes to what must be republished on every connect.
public struct BrokerMessagePump: Service {
    let client: MosquittoClient
    let bridge: Bridge
    let untilDisconnected: Bool
    /// Told every connection change after the bridge (e.g. the systemd status line).
    let onConnectionChange: @Sendable (ConnectionChange) -> Void

    /// - Parameter untilDisconnected: false: stops at graceful shutdown (list it after the
    ///   broker connection's service). True: ignores graceful shutdown and hands on every message
    ///   the client received until the client has disconnected and ended its streams, so that a
    ///   command received during shutdown is still answered (`shutting_down`) or, after the
    ///   disconnect, counted as not answered; list it *before* the broker connection's service,
    ///   so that the group stops the connection first.
    /// - Parameter onConnectionChange: told every connection change after the bridge.
    public init(
        client: MosquittoClient, bridge: Bridge, untilDisconnected: Bool = false,
        onConnectionChange: @escaping @Sendable (ConnectionChange) -> Void = { _ in }
    ) {
        self.client = client
        self.bridge = bridge
        self.untilDisconnected = untilDisconnected
        self.onConnectionChange = onConnectionChange
    }

    public func run() async throws {
        if untilDisconnected {
            // Cancellation (the group's hard deadline) still ends it. The streams end inside the
            // connection's service, before the group turns to this one: returning earlier than
            // that turn would count as finishing unexpectedly.
            await pump()
            try? await gracefulShutdown()
            return
        }
        // Stops at graceful shutdown, before the broker connection (which stops last).
        await cancelWhenGracefulShutdown {
            await pump()
        }
    }

    private func pump() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await message in client.messages {
                    await bridge.handle(
                        InboundMessage(
                            topic: message.topic, payload: message.payload, retain: message.retain,
                            responseTopic: message.properties.responseTopic,
                            correlationData: message.properties.correlationData))
                }
            }
            group.addTask {
                for await change in client.connectionChanges {
                    if case .connected = change { await bridge.brokerConnected() }
                    onConnectionChange(change)
                }
            }
        }
    }
}
