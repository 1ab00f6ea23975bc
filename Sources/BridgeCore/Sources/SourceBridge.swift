import Logging

/// Turns one source's documents into MQTT state and Home Assistant entities, following its
/// mapping file: readings go through the counter guard and the change filter to
/// `<base>/<device>` (and/or per-entity topics), devices and child devices get discovery, and
/// children that disappear are removed after the grace period.
///
/// One actor per configured source; the supervisor feeds it documents, the command router asks it
/// which command an entity maps to.
public actor SourceBridge {
    public typealias Instant = ContinuousClock.Instant

    /// A child device seen in a list (connector, cell, network client). A class owned by this
    /// actor: every document updates `lastSeen` of each child, in place.
    final class ChildRecord {
        // Unchecked exclusivity as for ``DeviceState/slots``, for the same reasons.
        @exclusivity(unchecked) var child: ChildDevice
        /// When a document last listed it, as a change-filter stamp (a plain value, unlike an
        /// instant, and written for every child of every document).
        @exclusivity(unchecked) var lastSeen: Duration
        /// Its state, once it has a reading.
        @exclusivity(unchecked) var state: DeviceState?

        init(child: ChildDevice, lastSeen: Duration) {
            self.child = child
            self.lastSeen = lastSeen
        }
    }

    public let configuration: SourceConfiguration
    public let mapping: MappingFile
    let context: DiscoveryContext
    let settings: PublishSettings
    let broker: any BrokerConnection
    let discovery: DiscoveryPublisher
    let availability: AvailabilityPublisher
    let logger: Logger
    let now: @Sendable () -> Instant
    let engine = MappingEngine()
    /// The entities this source publishes state for, as slots of each ``DeviceState``.
    let layout: StateLayout

    // Properties marked `@exclusivity(unchecked)` are used for every reading or device of a
    // document; they skip the runtime's dynamic exclusivity check. Safe because an actor's
    // synchronous code never reaches one of them while modifying it in place
    // (`take(into: &pending)` does not read `pending`).

    /// Device fields read from documents (`device:` templates), merged across endpoints.
    var deviceFields: [DeviceTemplate.Field: String] = [:]
    var children: [String: ChildRecord] = [:]
    /// When each child kind's list was last present in a document (a stamp, as `lastSeen`).
    @exclusivity(unchecked) var kindListedAt: [String: Duration] = [:]
    /// The main device's state, once it has a reading.
    @exclusivity(unchecked) var mainState: DeviceState?
    /// Devices with a value held by a debounce, released by `tick`.
    var holding: [ObjectIdentifier: DeviceState] = [:]

    /// Counts the rounds of `ingest` and `releaseHeld` (see ``DeviceState/changedInRound``).
    @exclusivity(unchecked) var round = 0
    /// The last burst's state messages, whose payload buffers the next burst renders into
    /// (see `publishDevices`); as many as the largest burst so far.
    var outbox: [OutboundMessage] = []
    var lastAttributes: [String: JSONValue] = [:]
    /// The change filter's rules (republish interval); the entries live in the device states.
    let changeFilter: ChangeFilter<ReadingValue>
    var counterGuard: CounterGuard
    var online: Bool?
    var discoveryStarted = false
    /// Mapping issues already logged (logged once per entity and message, not per document).
    var loggedIssues: Set<String> = []
    /// Each child list's ids by position, from one document to the next (see
    /// ``MappingEngine/ListMemo``).
    var listMemo = MappingEngine.ListMemo()
    /// Each child list's devices by position, from one document to the next (see
    /// ``ListPositions``); cleared whenever a child is removed.
    var listPositions: [ObjectIdentifier: ListPositions] = [:]
    /// What the document being read changes so far (see `ingest`).
    @exclusivity(unchecked) var pending = Batch()

    public init(
        configuration: SourceConfiguration, mapping: MappingFile, context: DiscoveryContext, settings: PublishSettings,
        broker: any BrokerConnection, discovery: DiscoveryPublisher, availability: AvailabilityPublisher,
        logger: Logger, now: @escaping @Sendable () -> Instant = { .now }
    ) {
        self.configuration = configuration
        self.mapping = mapping
        self.context = context
        self.settings = settings
        self.broker = broker
        self.discovery = discovery
        self.availability = availability
        var logger = logger
        logger[metadataKey: "source.id"] = "\(configuration.id)"
        logger[metadataKey: "source.type"] = "\(configuration.type.rawValue)"
        self.logger = logger
        self.now = now
        self.changeFilter = ChangeFilter(republishInterval: settings.republishInterval)
        self.layout = StateLayout(mapping: mapping)
        // A lower reading is a real reset only when it persists for the configured number of
        // readings AND five minutes: meters glitch to 0 for several telegrams in a row (FIELD-NOTES),
        // and fast streams would otherwise reach the count within seconds.
        self.counterGuard = CounterGuard(persistence: settings.counterResetReadings, persistenceDuration: .seconds(300))
    }

    /// The source's main device id (its configured id, topic-safe by validation).
    public nonisolated var deviceID: String { configuration.id }

    /// The device id of a child: `<source id>_<child id>`.
    public nonisolated func deviceID(child childID: String) -> String { configuration.id + "_" + childID }

    /// Feeds one document read from `endpoint` (poll, SSE event or WebSocket message).
    /// - Parameter sourceSaysReset: the source reported a genuine counter reset (meter replaced).
    ///
    /// The engine's readings go straight into the devices' slots as it reads them (nothing is
    /// collected per reading); what that sends waits until availability and discovery of new
    /// children went out, then each changed device's state is published once.
    public func ingest(endpoint: String, document: JSONValue, sourceSaysReset: Bool = false) async {
        let instant = now()
        let stamp = ChangeFilter<ReadingValue>.stamp(instant)
        round &+= 1
        // The engine's events go into `pending` (an actor property: the closure runs on this
        // actor), taken out before the first suspension, so a reentrant ingest has its own.
        pending = Batch()
        // The device the next readings belong to: the main device, or the child last reported
        // (found by its list position), its state created on its first reading.
        var child: ChildRecord?
        var lastList: (id: ObjectIdentifier, positions: ListPositions)?
        let fields = engine.stream(endpoint: endpoint, document: document, mapping: mapping, memo: &listMemo) { event in
            switch event {
            case .reading(let value, let attributes, let entity):
                let state = child.map { self.state(of: $0) } ?? mainDeviceState()
                take(
                    value, attributes: attributes, of: entity, in: state, at: instant, stamp: stamp, sourceSaysReset: sourceSaysReset,
                    into: &pending)
            case .listBegins(let kind):
                kindListedAt[kind] = stamp
            case .child(let named, let list, let position, let first, let changed):
                let positions: ListPositions
                if let lastList, lastList.id == list {
                    positions = lastList.positions
                } else {
                    positions = listPositions[list] ?? ListPositions()
                    listPositions[list] = positions
                    lastList = (list, positions)
                }
                var found = true
                let record = positions.record(at: position, id: named.id) {
                    found = false
                    if let record = children[named.id] { return record }
                    let record = ChildRecord(child: named.device, lastSeen: stamp)
                    children[named.id] = record
                    pending.newChildren.append(named.id)
                    pending.discoveryChanged = true
                    return record
                }
                child = record
                // A child named again by another list of its kind is the same device.
                guard first else { break }
                // At its remembered position and described as before, it is what the record has.
                if changed || !found, record.child != named.device {
                    record.child = named.device
                    pending.discoveryChanged = true
                }
                record.lastSeen = stamp
            case .listEnds:
                child = nil
            case .issue(let issue):
                pending.issues.append(issue)
            }
        }
        var batch = pending
        pending = Batch()
        logIssues(batch.issues)
        for (field, value) in fields where deviceFields[field] != value {
            deviceFields[field] = value
            batch.discoveryChanged = true
        }
        // A known child already has its availability (setOnline covers every child).
        if let online {
            for id in batch.newChildren { await availability.set(deviceID(child: id), online: online) }
        }
        if batch.discoveryChanged || !discoveryStarted {
            discoveryStarted = true
            await publishDiscovery()
        }
        publishDevices(batch.changed, after: batch.messages)
    }

    /// Sets every device of this source `online` or `offline` (from the source's health).
    public func setOnline(_ online: Bool) async {
        self.online = online
        await availability.set(deviceID, online: online)
        for childID in children.keys.sorted() { await availability.set(deviceID(child: childID), online: online) }
    }

    /// Releases debounced values whose window passed and removes children gone for longer than
    /// the grace period. Called by the supervisor's tick.
    public func tick() async {
        let instant = now()
        releaseHeld(at: instant)
        await sweepChildren(at: instant)
    }

    /// After a reconnect: publish every device's current state again.
    public func republishState() {
        let states = allStates
        for state in states {
            for slot in state.slots.indices { state.slots[slot].filter.reset() }
        }
        for (key, attributes) in lastAttributes.sorted(by: { $0.key < $1.key }) {
            let (device, entity) = Self.split(key)
            send(
                OutboundMessage(
                    topic: context.attributesTopic(device, entity), payload: attributes.jsonBytes, qos: 0, retain: settings.retain))
        }
        publishDevices(states.filter(\.hasValues))
    }

    /// Every device state, by device id.
    var allStates: [DeviceState] {
        (mainState.map { [$0] } ?? []) + children.values.compactMap(\.state).sorted { $0.id < $1.id }
    }

    /// The current child devices.
    public var childDevices: [ChildDevice] { children.values.map(\.child).sorted { $0.id < $1.id } }

    /// The child whose device id suffix is `childID`.
    public func child(_ childID: String) -> ChildDevice? { children[childID]?.child }

    /// Current values of a device (for tests and `bridge/info`-like views).
    public func currentValues(device: String) -> [String: JSONValue] {
        guard let state = allStates.first(where: { $0.id == device }) else { return [:] }
        return layout.values(of: state)
    }

    private func logIssues(_ issues: [MappingIssue]) {
        for issue in issues where loggedIssues.insert("\(issue.entityID)|\(issue.message)").inserted {
            logger.warning(
                "Mapping could not use a value",
                metadata: ["entity.id": "\(issue.entityID)", "endpoint": "\(issue.endpoint)", "error": "\(issue.message)"])
        }
    }

    static func split(_ key: String) -> (device: String, entity: String) {
        guard let slash = key.firstIndex(of: "/") else { return (key, "") }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }
}

/// The parts of an entity mapping that publishing a reading looks at.
struct EntityTraits: Sendable {
    let component: HAComponent
    let stateClass: StateClass?
    let debounce: Duration?
}
