import Logging
import ServiceLifecycle
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The core of a running bridge: the bridge's own topics (`bridge/info`, `bridge/sources`,
/// `bridge/request/<action>`), Home Assistant discovery (republished on every connect and when
/// `homeassistant/status` turns `online`, stale entries cleared at start), the bridge's own Home
/// Assistant device, and routing of received messages to the command router.
///
/// `bridge/state` (`online` on every connect, `offline` as last will and before a clean
/// disconnect) is carried by the broker client itself, so it is right even if this service hangs.
public final class Bridge: Service {
    /// What `bridge/info` and `bridge/sources` say about one source.
    public struct SourceSummary: Sendable, Hashable {
        public var id: String
        public var type: String
        public var name: String
        public var status: String
        /// Details for `bridge/sources` (last success, last error, counts, latency, budget).
        public var details: JSONValue

        public init(id: String, type: String, name: String, status: String, details: JSONValue = .object([:])) {
            self.id = id
            self.type = type
            self.name = name
            self.status = status
            self.details = details
        }
    }

    /// Source operations the bridge requests and buttons reach (the supervisor provides them).
    public struct SourceControl: Sendable {
        public var summaries: @Sendable () async -> [SourceSummary]
        public var refresh: @Sendable (_ sourceID: String?) async throws(BridgeRequestError) -> Void
        public var restart: @Sendable (_ sourceID: String?) async throws(BridgeRequestError) -> Void
        public var republishState: @Sendable () async -> Void

        public init(
            summaries: @escaping @Sendable () async -> [SourceSummary],
            refresh: @escaping @Sendable (_ sourceID: String?) async throws(BridgeRequestError) -> Void,
            restart: @escaping @Sendable (_ sourceID: String?) async throws(BridgeRequestError) -> Void,
            republishState: @escaping @Sendable () async -> Void
        ) {
            self.summaries = summaries
            self.refresh = refresh
            self.restart = restart
            self.republishState = republishState
        }

        /// No sources are running: summaries from the configuration, refresh and restart refuse.
        static func none(_ configuration: BridgeConfiguration) -> SourceControl {
            let sources = configuration.sources
            return SourceControl(
                summaries: {
                    sources.map {
                        SourceSummary(id: $0.id, type: $0.type.rawValue, name: $0.name, status: $0.enabled ? "unavailable" : "disabled")
                    }
                },
                refresh: { _ throws(BridgeRequestError) in throw BridgeRequestError("no source is running in this build") },
                restart: { _ throws(BridgeRequestError) in throw BridgeRequestError("no source is running in this build") },
                republishState: {})
        }
    }

    public let configuration: BridgeConfiguration
    public let topics: BridgeTopics
    public let requests: BridgeRequestHandler
    public let discovery: DiscoveryPublisher
    public let availability: AvailabilityPublisher
    public let router: CommandRouter
    public let context: DiscoveryContext
    let broker: any BrokerConnection
    let buildInfo: BuildInfo
    let startedAt: ContinuousClock.Instant
    let startedAtDate: Date
    let logger: Logger
    let sources: Mutex<SourceControl>
    /// Other client ids seen on `<base>/bridge/info`; true once one was seen live (not retained).
    let foreignInstances = Mutex<[String: Bool]>([:])
    /// Retained discovery messages collected during the stale-cleanup window (nil outside it).
    let collectedDiscovery = Mutex<[InboundMessage]?>(nil)
    /// Set by the first ``brokerConnected()``: `run()` then leaves the connection to the message
    /// pump, which announces every connect.
    let connectHandled = Mutex(false)
    /// Source status changes to reflect in `bridge/sources`, `bridge/info` and the bridge device.
    let statusChanges: AsyncStream<Void>
    let statusContinuation: AsyncStream<Void>.Continuation
    /// How often `bridge/info` and `bridge/sources` are refreshed without a status change
    /// (uptime, last success, request counts move all the time).
    let infoInterval: Duration

    public init(
        configuration: BridgeConfiguration, broker: any BrokerConnection, buildInfo: BuildInfo = .current,
        infoInterval: Duration = .seconds(60), logger: Logger
    ) {
        (statusChanges, statusContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.infoInterval = infoInterval
        self.configuration = configuration
        self.topics = BridgeTopics(base: configuration.mqtt.baseTopic)
        self.broker = broker
        self.buildInfo = buildInfo
        self.startedAt = .now
        self.startedAtDate = Date()
        self.logger = logger
        self.requests = BridgeRequestHandler(
            topics: topics, discoveryPrefix: configuration.homeassistant.discoveryPrefix, logger: logger)
        self.context = DiscoveryContext(
            baseTopic: configuration.mqtt.baseTopic, discoveryPrefix: configuration.homeassistant.discoveryPrefix,
            output: configuration.publish.output, build: buildInfo)
        self.discovery = DiscoveryPublisher(context: context, broker: broker, logger: logger)
        self.availability = AvailabilityPublisher(context: context, broker: broker, heldUntilOpened: true, logger: logger)
        self.router = CommandRouter(
            base: configuration.mqtt.baseTopic, broker: broker, discoveryPrefix: configuration.homeassistant.discoveryPrefix,
            logger: logger)
        self.sources = Mutex(.none(configuration))
    }

    /// Connects the running sources (the supervisor calls this before the group starts).
    public func attach(_ control: SourceControl) {
        sources.withLock { $0 = control }
    }

    /// Registers actions and subscriptions, publishes the bridge device, clears stale discovery,
    /// then waits for shutdown and stops taking commands by the bounded rule of
    /// ``CommandRouter/shutDown(inFlightDeadline:)``.
    public func run() async throws {
        // First: another instance's retained info arrives before ours replaces it.
        try await broker.subscribe(topics.info)
        await registerBuiltInActions()
        await registerBridgeDeviceCommands()
        try await broker.subscribe(topics.requestFilter)
        try await router.subscribe()
        // Only now may a device show `online`: a command sent on seeing it finds a subscription.
        await availability.open()
        if configuration.homeassistant.enabled {
            try await broker.subscribe(configuration.homeassistant.statusTopic)
            await publishBridgeDevice()
            await cleanStaleDiscovery()
        }
        // Only when nothing announced the connection yet (a broker without connection events): the
        // pump has normally done so long before the stale-discovery window ended, and doing it
        // again here republished every config the first poll had published by then (32,000 at
        // 1,000 OCPP charge points, three seconds after the start).
        if broker.isConnected, !connectHandled.withLock({ $0 }) { await brokerConnected() }
        await cancelWhenGracefulShutdown { await self.publishStatusUpdates() }
        await router.shutDown(inFlightDeadline: Self.commandShutdownDeadline)
    }

    /// How long calls in flight at shutdown may still take (README, "Stopping"): with the
    /// broker's farewell and disconnect the process stays within its 5 s.
    public static let commandShutdownDeadline: Duration = .seconds(2)

    /// A source's status changed (online, degraded, offline): `bridge/sources`, `bridge/info`
    /// and the bridge device's connectivity sensors are republished at once.
    public func sourceStatusChanged() {
        statusContinuation.yield()
    }

    /// Keeps `bridge/sources`, `bridge/info` and the bridge device's state current until cancelled.
    private func publishStatusUpdates() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in self.statusChanges where self.broker.isConnected {
                    await self.publishBridgeState()
                    await self.publishInfo()
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    do {
                        try await Task.sleep(for: self.infoInterval)
                    } catch {
                        return
                    }
                    if self.broker.isConnected { await self.publishInfo() }
                }
            }
        }
    }

    /// Called after every (re)connect: info, bridge device state, discovery, availability, state.
    public func brokerConnected() async {
        connectHandled.withLock { $0 = true }
        await publishInfo()
        await publishBridgeState()
        guard configuration.homeassistant.enabled else { return }
        await discovery.republishAll()
        await availability.republishAll()
        await sources.withLock { $0 }.republishState()
    }

    /// Routes one incoming message: bridge requests, commands, Home Assistant's status, and
    /// retained discovery during the stale-cleanup window.
    public func handle(_ message: InboundMessage) async {
        if message.topic.hasPrefix(topics.base + "/bridge/request/") {
            for response in await requests.handle(message) { send(response) }
            return
        }
        if message.topic == topics.info {
            await noteInstanceInfo(message)
            return
        }
        if message.topic == configuration.homeassistant.statusTopic {
            if message.payloadString == "online" {
                logger.info("Home Assistant is online: republishing discovery and state")
                await brokerConnected()
            }
            return
        }
        if await router.handle(message) { return }
        if message.retain, TopicFilter.matches(context.configFilter, message.topic) {
            collectedDiscovery.withLock { $0?.append(message) }
        }
    }

    /// Publishes `bridge/info` (retained) and `bridge/sources` (retained).
    public func publishInfo() async {
        send(OutboundMessage(topic: topics.info, payload: await info().jsonBytes, qos: 1, retain: true))
        let summaries = await sources.withLock { $0 }.summaries()
        let perSource = Dictionary(summaries.map { ($0.id, Self.sourceDocument($0)) }, uniquingKeysWith: { first, _ in first })
        send(OutboundMessage(topic: topics.sources, payload: JSONValue.object(perSource).jsonBytes, qos: 1, retain: true))
    }

    static func sourceDocument(_ summary: SourceSummary) -> JSONValue {
        var document = summary.details.objectValue ?? [:]
        document["status"] = .string(summary.status)
        document["type"] = .string(summary.type)
        return .object(document)
    }

    /// The `bridge/info` document: version, commit, uptime, broker, sources, redacted configuration.
    public func info() async -> JSONValue {
        let summaries = await sources.withLock { $0 }.summaries()
        let sources = summaries.map { summary -> JSONValue in
            ["id": .string(summary.id), "type": .string(summary.type), "name": .string(summary.name),
             "status": .string(summary.status)]
        }
        return [
            "version": .string(buildInfo.version),
            "commit": .string(buildInfo.commit),
            "started_at": .string(startedAtDate.formatted(.iso8601)),
            "uptime_s": .number(uptimeSeconds),
            "broker": .string(broker.brokerDescription),
            "broker_connected": .bool(broker.isConnected),
            "protocol": .string(configuration.mqtt.protocolVersion.rawValue),
            "client_id": .string(configuration.mqtt.clientID),
            "base_topic": .string(configuration.mqtt.baseTopic),
            "sources": .array(sources),
            "config": (try? JSONValue(encoding: configuration)) ?? .null,
        ]
    }

    /// Whole seconds since the service was created.
    public var uptimeSeconds: Double {
        Double((ContinuousClock.now - startedAt).components.seconds)
    }

    func send(_ message: OutboundMessage) {
        do {
            try broker.enqueue(message)
        } catch {
            logger.warning("Could not publish", metadata: ["mqtt.topic": "\(message.topic)", "error": "\(error)"])
        }
    }
}
