import Logging
import ServiceLifecycle
import Synchronization

extension Bridge {
    /// Clears retained discovery entries of ours that nothing produces any more: collects what the
    /// broker holds under the discovery prefix for `stale_cleanup_window`, then compares.
    func cleanStaleDiscovery() async {
        let window = configuration.publish.staleCleanupWindow
        guard window > .zero else { return }
        collectedDiscovery.withLock { $0 = [] }
        do {
            // Not our own configs: a first poll within the window would otherwise send every
            // config it publishes back to us (32,000 at 1,000 OCPP charge points), to be received,
            // handed through the message stream and dropped, doubling the broker's work.
            try await broker.subscribeIgnoringOwnMessages(context.configFilter)
        } catch {
            collectedDiscovery.withLock { $0 = nil }
            logger.warning("Could not read back discovery for cleanup", metadata: ["error": "\(error)"])
            return
        }
        // A SIGTERM during the window ends it: the shutdown's time is for commands in flight.
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: window) }
        broker.unsubscribe(context.configFilter)
        let retained = collectedDiscovery.withLock { collected in
            defer { collected = nil }
            return collected ?? []
        }
        guard !Task.isShuttingDownGracefully else {
            logger.debug("Stale discovery check skipped: shutting down", metadata: ["retained": "\(retained.count)"])
            return
        }
        guard !sharesBaseTopic else {
            logger.warning(
                "Removed no stale discovery: another instance shares the base topic, its entries look like ours",
                metadata: ["retained": "\(retained.count)"])
            return
        }
        let cleared = await discovery.clearStale(retained: retained)
        logger.debug("Stale discovery check done", metadata: ["retained": "\(retained.count)", "removed": "\(cleared.count)"])
    }

    /// The discovery messages of the bridge's own device.
    public func bridgeDeviceDiscovery() -> [DiscoveryMessage] {
        let device = BridgeDevice(configuration: configuration, build: buildInfo)
        return device.entities.map { context.message(device: device.device, entity: $0) }
    }

    /// Publishes the bridge device's discovery and marks it available.
    func publishBridgeDevice() async {
        let device = BridgeDevice(configuration: configuration, build: buildInfo)
        await discovery.update(device: device.device, entities: device.entities)
        await availability.set(BridgeDevice.id, online: true)
    }

    /// Publishes `<base>/bridge` (the bridge device's state): version and each source's connectivity.
    func publishBridgeState() async {
        var state: [String: JSONValue] = ["version": .string(buildInfo.version)]
        for summary in await sources.withLock({ $0 }).summaries() where summary.status != "disabled" {
            state[BridgeDevice.connectivityID(summary.id)] = .bool(summary.status == "online" || summary.status == "degraded")
        }
        send(OutboundMessage(topic: context.deviceTopic(BridgeDevice.id), payload: JSONValue.object(state).jsonBytes, qos: 1, retain: true))
    }

    /// The restart and republish buttons.
    func registerBridgeDeviceCommands() async {
        await router.registerLocal(device: BridgeDevice.id, commands: BridgeDevice.commands) {
            [weak self] entity, _ throws(CommandFailure) in
            guard let self else { throw CommandFailure(.sourceUnavailable, "the bridge is shutting down") }
            switch entity {
            case "republish_discovery":
                await self.discovery.republishAll()
            default:
                do {
                    try await self.sources.withLock { $0 }.restart(nil)
                } catch {
                    throw CommandFailure(.callFailed, String(describing: error))
                }
            }
        }
    }

    /// `health_check`, `info`, `discovery/republish`, `source/refresh`, `source/restart`.
    func registerBuiltInActions() async {
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
            return await self.info()
        }
        await requests.register("discovery/republish") { [weak self] _ in
            guard let self else { throw BridgeRequestError("bridge is shutting down") }
            guard self.configuration.homeassistant.enabled else {
                throw BridgeRequestError("Home Assistant discovery is disabled (homeassistant.enabled: false)")
            }
            let count = await self.discovery.republishAll()
            return ["republished": .number(Double(count))]
        }
        await requests.register("source/refresh") { [weak self] parameters in
            guard let self else { throw BridgeRequestError("bridge is shutting down") }
            let id = parameters["id"]?.stringValue
            try await self.sources.withLock { $0 }.refresh(id)
            return ["id": id.map(JSONValue.string) ?? .null]
        }
        await requests.register("source/restart") { [weak self] parameters in
            guard let self else { throw BridgeRequestError("bridge is shutting down") }
            let id = parameters["id"]?.stringValue
            try await self.sources.withLock { $0 }.restart(id)
            return ["id": id.map(JSONValue.string) ?? .null]
        }
    }
}
