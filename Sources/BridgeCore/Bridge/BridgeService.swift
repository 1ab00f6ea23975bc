import Foundation
import Logging
import ServiceLifecycle

/// The bridge's own MQTT surface: `bridge/info` (retained, on every connect), and the
/// `bridge/request/<action>` → `bridge/response/<action>` mechanism with the built-in actions
/// `health_check` and `info`. Later parts (discovery, sources) register more actions on
/// ``requests``.
///
/// `bridge/state` (`online` on every connect, `offline` as last will and before a clean
/// disconnect) is carried by the broker client itself, so it is right even if this service hangs.
public final class BridgeService: Service {
    /// What `bridge/info` says about one source.
    public struct SourceSummary: Sendable, Hashable, Encodable {
        public var id: String
        public var type: String
        public var name: String
        public var status: String

        public init(id: String, type: String, name: String, status: String) {
            self.id = id
            self.type = type
            self.name = name
            self.status = status
        }
    }

    public let configuration: BridgeConfiguration
    public let topics: BridgeTopics
    public let requests: BridgeRequestHandler
    private let broker: any BrokerConnection
    private let buildInfo: BuildInfo
    private let startedAt: ContinuousClock.Instant
    private let startedAtDate: Date
    private let sourceSummaries: @Sendable () -> [SourceSummary]
    private let logger: Logger

    /// - Parameter sourceSummaries: the sources' current status, read whenever info is built.
    public init(
        configuration: BridgeConfiguration, broker: any BrokerConnection, buildInfo: BuildInfo = .current,
        sourceSummaries: (@Sendable () -> [SourceSummary])? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.topics = BridgeTopics(base: configuration.mqtt.baseTopic)
        self.broker = broker
        self.buildInfo = buildInfo
        self.startedAt = .now
        self.startedAtDate = Date()
        self.logger = logger
        self.requests = BridgeRequestHandler(topics: topics, logger: logger)
        let sources = configuration.sources
        self.sourceSummaries =
            sourceSummaries ?? {
                sources.map {
                    SourceSummary(id: $0.id, type: $0.type.rawValue, name: $0.name, status: $0.enabled ? "unknown" : "disabled")
                }
            }
    }

    /// Registers the built-in actions and subscribes to requests, then waits for shutdown.
    public func run() async throws {
        await registerBuiltInActions()
        try await broker.subscribe(topics.requestFilter)
        if broker.isConnected { await publishInfo() }
        try? await gracefulShutdown()
    }

    /// Called after every (re)connect: republishes `bridge/info`.
    public func brokerConnected() async {
        await publishInfo()
    }

    /// Routes one incoming message; publishes the responses of bridge requests.
    public func handle(_ message: InboundMessage) async {
        let responses = await requests.handle(message)
        for response in responses {
            do {
                try broker.enqueue(response)
            } catch {
                logger.warning(
                    "Could not publish a bridge response",
                    metadata: ["mqtt.topic": "\(response.topic)", "error": "\(error)"])
            }
        }
    }

    /// Publishes `bridge/info`, retained.
    public func publishInfo() async {
        do {
            try broker.enqueue(OutboundMessage(topic: topics.info, payload: info().jsonBytes, qos: 1, retain: true))
        } catch {
            logger.warning("Could not publish bridge/info", metadata: ["error": "\(error)"])
        }
    }

    /// The `bridge/info` document: version, commit, uptime, broker, sources, redacted configuration.
    public func info() -> JSONValue {
        let sources = sourceSummaries().map { summary -> JSONValue in
            ["id": .string(summary.id), "type": .string(summary.type), "name": .string(summary.name),
             "status": .string(summary.status)]
        }
        let configuration = (try? JSONValue(encoding: self.configuration)) ?? .null
        return [
            "version": .string(buildInfo.version),
            "commit": .string(buildInfo.commit),
            "started_at": .string(ISO8601DateFormatter().string(from: startedAtDate)),
            "uptime_s": .number(uptimeSeconds),
            "broker": .string(broker.brokerDescription),
            "broker_connected": .bool(broker.isConnected),
            "protocol": .string(self.configuration.mqtt.protocolVersion.rawValue),
            "client_id": .string(self.configuration.mqtt.clientID),
            "base_topic": .string(self.configuration.mqtt.baseTopic),
            "sources": .array(sources),
            "config": configuration,
        ]
    }

    /// Whole seconds since the service was created.
    public var uptimeSeconds: Double {
        let elapsed = ContinuousClock.now - startedAt
        return Double(elapsed.components.seconds)
    }

    private func registerBuiltInActions() async {
        await requests.register("health_check") { [weak self] _ in
            guard let self else { throw BridgeRequestError("bridge is shutting down") }
            return [
                "healthy": .bool(self.broker.isConnected),
                "broker": .string(self.broker.isConnected ? "connected" : "disconnected"),
                "uptime_s": .number(self.uptimeSeconds),
            ]
        }
        await requests.register("info") { [weak self] _ in
            guard let self else { throw BridgeRequestError("bridge is shutting down") }
            return self.info()
        }
    }
}
