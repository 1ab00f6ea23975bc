import BridgeCore
import BrokerLink
import Foundation
import Logging
import Mosquitto
import ServiceLifecycle
import SourceKit
import Synchronization

/// The bridge `api2mqtt run` builds (`buildBridge`: broker client, message pump, HTTP client pool,
/// one runner per source, the bridge service, in that order), in this process, with the sources on
/// a ``SimulatedClock``: runners sleep on it, publishers take their time from it, and the adapters
/// the caller makes get it too. Metrics, the HTTP server and systemd are left out.
///
/// The broker connection and the message pump are the executable's (`BrokerLink`); the connection
/// also counts what it hands to the broker, so a driver can wait until a subscriber has
/// everything (``CountingConnection/sent``).
public struct InProcessBridge: Sendable {
    public let bridge: Bridge
    public let runners: [SourceRunner]
    public let connection: CountingConnection
    public let configuration: BridgeConfiguration

    /// Makes a source's adapter on the shared pool.
    public typealias AdapterFactory = @Sendable (SourceConfiguration, HTTPClientPool) throws -> (any SourceAdapter)?

    /// The built-in mapping files of this source tree.
    public static var mappingsDirectory: String {
        URL(fileURLWithPath: #filePath).appendingPathComponent("../../../Mappings").standardized.path
    }

    /// Builds the bridge from `yaml` (a configuration file's text), runs it while `body` runs,
    /// then shuts it down gracefully (the services stop in reverse order).
    public static func run<T: Sendable>(
        yaml: String, clock: SimulatedClock, logger: Logger, adapters: @escaping AdapterFactory,
        _ body: @Sendable (InProcessBridge) async throws -> T
    ) async throws -> T {
        let configuration = try ConfigLoader.load(yaml: yaml, file: "accelerated.yaml", environment: [:])
        let mqtt = configuration.mqtt
        let state = BridgeTopics(base: mqtt.baseTopic).state
        let client = try MosquittoClient(
            configuration: MosquittoConfiguration(
                scheme: mqtt.url.scheme == .mqtts ? .mqtts : .mqtt, host: mqtt.url.host, port: mqtt.url.port,
                clientID: mqtt.clientID, protocolVersion: mqtt.protocolVersion == .v5 ? .v5 : .v311,
                will: OutgoingMessage(topic: state, payload: "offline", qos: .atLeastOnce, retain: true),
                birth: OutgoingMessage(topic: state, payload: "online", qos: .atLeastOnce, retain: true),
                farewell: OutgoingMessage(topic: state, payload: "offline", qos: .atLeastOnce, retain: true)),
            logger: logger)
        let connection = CountingConnection(client: client)
        let bridge = Bridge(configuration: configuration, broker: connection, logger: logger)
        let mappings = try MappingLoader.load(builtIn: mappingsDirectory, environment: [:])
        let pool = HTTPClientPool(logger: logger)
        let sources = try await ConfiguredSources(
            bridgeService: bridge, mappings: mappings, adapters: { try adapters($0, pool) }, clock: clock,
            now: { clock.now }, logger: logger)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            [
                .init(
                    service: MosquittoService(client: client), successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: BrokerMessagePump(client: client, bridge: bridge)),
                .init(service: PoolService(pool: pool)),
            ] + sources.services.map { .init(service: $0) } + [.init(service: bridge)]
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(5)
        groupConfiguration.maximumCancellationDuration = .seconds(1)
        let group = ServiceGroup(configuration: groupConfiguration)
        let running = InProcessBridge(bridge: bridge, runners: sources.services, connection: connection, configuration: configuration)
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            do {
                try await client.waitUntilConnected(timeout: .seconds(30))
                let result = try await body(running)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

/// The executable's broker connection, counting the messages handed over.
public final class CountingConnection: BrokerConnection {
    let connection: MosquittoBrokerConnection
    private let count = Atomic<Int>(0)

    init(client: MosquittoClient) {
        self.connection = MosquittoBrokerConnection(client: client)
    }

    /// Messages handed to the broker client so far (published or queued).
    public var sent: Int { count.load(ordering: .sequentiallyConsistent) }

    public func publish(_ message: OutboundMessage) async throws {
        try await connection.publish(message)
        count.add(1, ordering: .sequentiallyConsistent)
    }

    public func enqueue(_ message: OutboundMessage) throws {
        try connection.enqueue(message)
        count.add(1, ordering: .sequentiallyConsistent)
    }

    public func subscribe(_ filter: String) async throws { try await connection.subscribe(filter) }
    public func subscribeIgnoringOwnMessages(_ filter: String) async throws {
        try await connection.subscribeIgnoringOwnMessages(filter)
    }
    public func unsubscribe(_ filter: String) { connection.unsubscribe(filter) }
    public var isConnected: Bool { connection.isConnected }
    public var supportsProperties: Bool { connection.supportsProperties }
    public var brokerDescription: String { connection.brokerDescription }
}

/// Keeps the HTTP client pool until graceful shutdown, then closes it.
struct PoolService: Service {
    let pool: HTTPClientPool

    func run() async throws {
        try? await gracefulShutdown()
        await pool.shutdown()
    }
}
