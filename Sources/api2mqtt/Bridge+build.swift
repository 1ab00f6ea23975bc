import Adapters
import BridgeCore
import BrokerLink
import Logging
import Metrics
import Mosquitto
import Prometheus
import ServiceLifecycle
import SourceKit
import UnixSignals

/// The running bridge: its service group and the parts tests and commands look at.
struct RunningBridge {
    let group: ServiceGroup
    let client: MosquittoClient
    let bridge: Bridge
}

/// Builds every service of the bridge in dependency order.
///
/// `ServiceGroup` starts them in this order and shuts them down in reverse: the systemd notifier
/// and the HTTP server stop first, then the bridge (it stops taking commands: see
/// `CommandRouter.shutDown`), the sources, the broker connection (after publishing `offline` on
/// `<base>/bridge/state`), and the message pump last, once the connection's streams have ended.
func buildBridge(configuration: BridgeConfiguration, logger: Logger) async throws -> RunningBridge {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

    let client = try MosquittoClient(configuration: configuration.mqtt.clientConfiguration(), logger: logger)
    let connection = MosquittoBrokerConnection(client: client)
    let bridge = Bridge(configuration: configuration, broker: connection, logger: logger)
    let mappings = try loadMappings(configuration)
    let pool = HTTPClientPool(logger: logger)
    let adapters = AdapterFactory(pool: pool, logger: logger)
    let supervisor = try await ConfiguredSources(
        bridgeService: bridge, mappings: mappings, adapters: { try adapters.makeAdapter($0) }, logger: logger)
    let notifier = SystemdNotifier.fromEnvironment()
    let readiness = notifier.map { ReadinessReporter(notifier: $0, broker: client.configuration.brokerDescription) }
    let pump = BrokerMessagePump(client: client, bridge: bridge, untilDisconnected: true) { change in
        readiness?.connectionChanged(change)
    }

    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        // Stops after the broker connection: it hands on what arrives until the disconnect.
        .init(service: pump),
        .init(
            service: MosquittoService(client: client), successTerminationBehavior: .gracefullyShutdownGroup,
            failureTerminationBehavior: .gracefullyShutdownGroup),
        // Shut down after the sources (the group stops services in reverse order).
        .init(service: HTTPClientPoolService(pool: pool)),
    ] + supervisor.services.map { .init(service: $0) } + [.init(service: bridge)]
    if configuration.http.enabled {
        let exporter = MetricsExporter(registry: registry, client: client)
        services.append(.init(service: buildHTTPServer(configuration.http, client: client, metrics: exporter, logger: logger)))
    }
    if let notifier, let readiness {
        services.append(.init(service: SystemdNotifierService(notifier: notifier)))
        services.append(.init(service: readiness))
    }
    var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
    groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint]
    // SIGTERM must end the process within 5 s even if something hangs.
    groupConfiguration.maximumGracefulShutdownDuration = .seconds(4)
    groupConfiguration.maximumCancellationDuration = .milliseconds(500)
    return RunningBridge(group: ServiceGroup(configuration: groupConfiguration), client: client, bridge: bridge)
}

/// The built-in mappings plus the user's overlay directory; only needed when a source is enabled.
func loadMappings(_ configuration: BridgeConfiguration) throws -> [String: MappingFile] {
    guard configuration.sources.contains(where: \.enabled) else { return [:] }
    guard let builtIn = MappingLocator.builtInDirectory() else {
        throw ConfigErrors([
            ConfigError(unpositionedIn: configuration.file, message: "cannot find the built-in Mappings/ directory (set API2MQTT_MAPPINGS)")
        ])
    }
    let mappings = try MappingLoader.load(builtIn: builtIn, overlay: configuration.mappings.directory)
    let unserved = SourceRegistry.endpointErrors(configuration: configuration, mappings: mappings)
    if !unserved.isEmpty {
        throw ConfigErrors(unserved.map { ConfigError(unpositionedIn: configuration.file, message: $0) })
    }
    return mappings
}

extension MQTTSettings {
    /// The client settings: broker, credentials, TLS, and the bridge's state topic as last will
    /// (`offline`), birth (`online` on every connect) and farewell (`offline` before a clean disconnect).
    func clientConfiguration() -> MosquittoConfiguration {
        let stateTopic = BridgeTopics(base: baseTopic).state
        return MosquittoConfiguration(
            scheme: url.scheme == .mqtts ? .mqtts : .mqtt,
            host: url.host,
            port: url.port,
            clientID: clientID,
            username: username,
            password: password?.revealed,
            protocolVersion: protocolVersion == .v5 ? .v5 : .v311,
            keepalive: Int(keepalive.components.seconds),
            tls: MosquittoConfiguration.TLS(
                caFile: tls?.caFile, certFile: tls?.certFile, keyFile: tls?.keyFile, insecure: tls?.insecure ?? false),
            will: OutgoingMessage(topic: stateTopic, payload: "offline", qos: .atLeastOnce, retain: true),
            birth: OutgoingMessage(topic: stateTopic, payload: "online", qos: .atLeastOnce, retain: true),
            farewell: OutgoingMessage(topic: stateTopic, payload: "offline", qos: .atLeastOnce, retain: true),
            reconnectMaxDelay: Int(reconnectMaxDelay.components.seconds),
            offlineQueueLimit: offlineQueueLimit,
            publishTimeout: publishTimeout
        )
    }
}

/// Keeps the shared HTTP client pool alive until graceful shutdown, then closes its clients.
struct HTTPClientPoolService: Service {
    let pool: HTTPClientPool

    func run() async throws {
        try? await gracefulShutdown()
        await pool.shutdown()
    }
}
