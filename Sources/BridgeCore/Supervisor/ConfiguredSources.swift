import Logging

/// Builds a `SourcePublisher` and a `SourceRunner` for every enabled source, registers them with
/// the command router and gives the bridge service its `SourceControl` (summaries for
/// `bridge/info` and `bridge/sources`, refresh, restart).
public struct ConfiguredSources: Sendable {
    /// Makes the adapter for a source; nil when this build has none for its type.
    public typealias AdapterFactory = @Sendable (SourceConfiguration) throws -> (any SourceAdapter)?

    public let services: [SourceRunner]

    /// - Parameters:
    ///   - clock: what the runners' schedules sleep on.
    ///   - now: the publishers' time (presence, debounce, counter resets); with a `clock` other
    ///     than the real one, pass that clock's time (accelerated runs).
    /// - Throws: `ConfigErrors` for a missing mapping or a source type without an adapter.
    public init(
        bridgeService: Bridge, mappings: [String: MappingFile], adapters: AdapterFactory,
        clock: any Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        logger: Logger
    ) async throws {
        let configuration = bridgeService.configuration
        var services: [SourceRunner] = []
        var problems: [ConfigError] = []
        for (index, source) in configuration.sources.enumerated() where source.enabled {
            guard let mapping = try MappingLoader.mapping(for: source, in: mappings) else {
                problems.append(
                    ConfigError(
                        file: configuration.file, line: 0, column: 0, keyPath: "sources[\(index)].type",
                        message: "no mapping file for source type \(source.type.rawValue)"))
                continue
            }
            guard let adapter = try adapters(source) else {
                problems.append(
                    ConfigError(
                        file: configuration.file, line: 0, column: 0, keyPath: "sources[\(index)].type",
                        message: "source type \(source.type.rawValue) has no adapter in this build"))
                continue
            }
            let bridge = SourcePublisher(
                configuration: source, mapping: mapping, context: bridgeService.context,
                settings: configuration.publish, broker: bridgeService.broker, discovery: bridgeService.discovery,
                availability: bridgeService.availability, logger: logger, now: now)
            let service = SourceRunner(
                bridge: bridge, adapter: adapter, clock: clock, logger: logger,
                onStatusChange: { [weak bridgeService] in bridgeService?.sourceStatusChanged() })
            await bridgeService.router.register(CommandRouter.Route(bridge: bridge, executor: service))
            services.append(service)
        }
        if !problems.isEmpty { throw ConfigErrors(problems) }
        self.services = services
        let byID = Dictionary(services.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let all = services
        let disabled = configuration.sources.filter { !$0.enabled }
        bridgeService.attach(
            Bridge.SourceControl(
                summaries: {
                    var summaries: [Bridge.SourceSummary] = []
                    for service in all { summaries.append(await service.summary()) }
                    return summaries
                        + disabled.map { .init(id: $0.id, type: $0.type.rawValue, name: $0.name, status: "disabled") }
                },
                refresh: { id throws(BridgeRequestError) in
                    for service in try Self.select(id, in: byID, all: all) { await service.refresh(endpoints: []) }
                },
                restart: { id throws(BridgeRequestError) in
                    for service in try Self.select(id, in: byID, all: all) { service.restart() }
                },
                republishState: {
                    for service in all { await service.bridge.republishState() }
                }))
    }

    static func select(_ id: String?, in byID: [String: SourceRunner], all: [SourceRunner]) throws(BridgeRequestError)
        -> [SourceRunner]
    {
        guard let id else {
            if all.isEmpty { throw BridgeRequestError("no source is running") }
            return all
        }
        guard let service = byID[id] else { throw BridgeRequestError("no running source with id '\(id)'") }
        return [service]
    }
}
