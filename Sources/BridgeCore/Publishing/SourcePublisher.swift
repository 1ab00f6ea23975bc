import Logging

/// Turns one source's documents into MQTT state and Home Assistant entities, following its
/// mapping file: readings go through the counter guard and the change filter to
/// `<base>/<device>` (and/or per-entity topics), devices and child devices get discovery, and
/// children that disappear are removed after the grace period.
///
/// One actor per configured source; the supervisor feeds it documents, the command router asks it
/// which command an entity maps to.
public actor SourcePublisher {
    public typealias Instant = ContinuousClock.Instant

    /// A child device seen in a list (connector, cell, network client).
    final class ChildRecord {
        /// The child's id (`child.id`, which never changes for a record).
        let id: String
        var child: ChildDevice
        /// When a document last listed it.
        var lastSeen: Instant
        /// Its state, once it has a reading.
        var state: DeviceState?

        init(child: ChildDevice, lastSeen: Instant) {
            self.id = child.id
            self.child = child
            self.lastSeen = lastSeen
        }

        /// Takes `child` (the same id) as the child's description; whether it differs from the
        /// one it had.
        func update(_ child: ChildDevice) -> Bool {
            // Field by field: `self.child == child` copied the whole stored description out first.
            if self.child.name == child.name, self.child.key == child.key, self.child.kind == child.kind,
                self.child.parentID == child.parentID, self.child.device == child.device
            {
                return false
            }
            self.child = child
            return true
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
    /// What publishing a reading looks at, by entity id (a command's state has none).
    let traits: [String: EntityTraits]

    /// Device fields read from documents (`device:` templates), merged across endpoints.
    var deviceFields: [DeviceTemplate.Field: String] = [:]
    var children: [String: ChildRecord] = [:]
    /// How many children of each kind are known (a list shorter than that misses some).
    var childCount: [String: Int] = [:]
    /// When each child kind's list was last present in a document.
    var kindListedAt: [String: Instant] = [:]
    /// The main device's state, once it has a reading.
    var mainState: DeviceState?
    /// Devices with a value held by a debounce, released by `tick`.
    var holding: [ObjectIdentifier: DeviceState] = [:]
    /// Told when `tick()` gets work that is due later (see ``onPending(_:)``).
    var pendingHandler: (@Sendable (Instant?) -> Void)?
    var lastAttributes: [String: JSONValue] = [:]
    /// The change filter's rules (republish interval); the entries live in the device states.
    let changeFilter: ChangeFilter<ReadingValue>
    var counterGuard: CounterGuard
    var online: Bool?
    var discoveryStarted = false
    /// A document is being ingested; the next ones wait in `turnWaiters`, first come first served.
    var ingesting = false
    var turnWaiters: [CheckedContinuation<Void, Never>] = []
    /// Mapping issues already logged (logged once per entity and message, not per document).
    var loggedIssues: Set<String> = []
    /// Presence of `device_tracker` children, by tracker entity.
    var presences: [Presence]
    /// Child kinds whose removal presence decides (not the grace period).
    let presenceKinds: Set<String>
    /// The discovery entities of each child kind, worked out once (see `kindEntities`).
    var discoveryEntitiesByKind: [String: [DiscoveryEntity]] = [:]

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
        var traits: [String: EntityTraits] = [:]
        for entity in mapping.entities where traits[entity.id] == nil {
            traits[entity.id] = EntityTraits(id: entity.id, component: entity.component, stateClass: entity.stateClass, debounce: entity.debounce)
        }
        // A control declared by its command alone (no entity of its id) has its component too.
        for command in mapping.commands where traits[command.id] == nil {
            if let component = command.component {
                traits[command.id] = EntityTraits(id: command.id, component: component, stateClass: nil, debounce: nil)
            }
        }
        self.traits = traits
        self.presences = Self.presences(of: mapping, configuration: configuration)
        self.presenceKinds = Set(presences.map(\.kind))
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
    /// What the readings send waits until availability and discovery of new children went out,
    /// then each changed device's state is published once.
    public func ingest(endpoint: String, document: JSONValue, sourceSaysReset: Bool = false) async {
        await takeTurn()
        defer { passTurn() }
        let instant = now()
        var mapped = engine.readings(endpoint: endpoint, document: document, mapping: mapping)
        let gone = presences.isEmpty ? [] : applyPresence(to: &mapped, endpoint: endpoint, document: document, at: instant)
        // Read-only from here: its children and readings are borrowed, not copied.
        let output = mapped
        var batch = Batch()
        for kind in output.childIDs.keys { kindListedAt[kind] = instant }
        // The document's children in its order, which is also the order of their readings; each
        // with its id as this document spells it (the very string its readings hold, so that
        // comparing them below is a pointer comparison, not one of their bytes).
        var listed: [(id: String, record: ChildRecord)] = []
        listed.reserveCapacity(output.children.count)
        for index in output.children.indices {
            let id = output.children[index].id
            if let record = children[id] {
                if record.update(output.children[index]) { batch.discoveryChildren.append(id) }
                record.lastSeen = instant
                listed.append((id, record))
            } else {
                let record = ChildRecord(child: output.children[index], lastSeen: instant)
                children[id] = record
                childCount[record.child.kind, default: 0] += 1
                listed.append((id, record))
                batch.newChildren.append(id)
                batch.discoveryChildren.append(id)
            }
        }
        // A list without some known child starts that child's grace period: `tick()` removes it.
        if let pendingHandler,
            output.childIDs.contains(where: { kind, ids in (childCount[kind] ?? 0) > ids.count && !presenceKinds.contains(kind) })
        {
            pendingHandler(nil)
        }
        // A child's readings follow one another, children in the order listed: its record is
        // the next listed one (else, a child another list named, looked up).
        var next = 0
        var currentID: String?
        var currentState: DeviceState?
        for index in output.readings.indices {
            let state: DeviceState
            if let childID = output.readings[index].childID {
                if currentID != childID {
                    let record: ChildRecord?
                    if next < listed.count, listed[next].id == childID {
                        record = listed[next].record
                        next += 1
                    } else {
                        record = children[childID]
                    }
                    currentID = childID
                    currentState = record.map(self.state(of:))
                }
                guard let currentState else { continue }
                state = currentState
            } else {
                state = mainDeviceState()
            }
            take(
                output.readings[index].value, of: output.readings[index].entityID, attributes: output.readings[index].attributes,
                in: state, at: instant, sourceSaysReset: sourceSaysReset, into: &batch)
        }
        logIssues(output.issues)
        for (field, value) in output.device where deviceFields[field] != value {
            deviceFields[field] = value
            batch.mainDiscoveryChanged = true
        }
        // A known child already has its availability (setOnline covers every child).
        if let online {
            for id in batch.newChildren { await availability.set(deviceID(child: id), online: online) }
        }
        if !discoveryStarted {
            discoveryStarted = true
            await publishDiscovery(main: true, children: children.keys.sorted())
        } else if batch.mainDiscoveryChanged || !batch.discoveryChildren.isEmpty {
            await publishDiscovery(main: batch.mainDiscoveryChanged, children: batch.discoveryChildren)
        }
        // Configs handed to the offline queue before the connect: the broker has them first too.
        await discovery.settleOffline()
        publishDevices(batch.changed, after: batch.messages)
        if !gone.isEmpty { await removeChildren(gone) }
    }

    /// One document at a time, in the order they came: `ingest` awaits the broker (availability,
    /// discovery) part-way, and a second document taken meanwhile would publish the devices'
    /// states, with its values, before the first one's; the first's values were then never sent
    /// (a stream's document racing a fallback poll lost its reading), and its states could
    /// overtake configs the first one's discovery still had on their way.
    private func takeTurn() async {
        guard ingesting else {
            ingesting = true
            return
        }
        await withCheckedContinuation { turnWaiters.append($0) }
    }

    /// Hands the turn to the next waiting document, if any.
    private func passTurn() {
        if turnWaiters.isEmpty {
            ingesting = false
        } else {
            turnWaiters.removeFirst().resume()
        }
    }

    /// Sets every device of this source `online` or `offline` (from the source's health).
    public func setOnline(_ online: Bool) async {
        self.online = online
        await availability.set(deviceID, online: online)
        for childID in children.keys.sorted() { await availability.set(deviceID(child: childID), online: online) }
    }

    /// Releases debounced values whose window passed and removes children gone for longer than
    /// the grace period. Called by the supervisor's tick.
    /// - Returns: when the next such work is due, or `nil` when none is pending.
    @discardableResult
    public func tick() async -> Instant? {
        let instant = now()
        releaseHeld(at: instant)
        await sweepChildren(at: instant)
        return nextDue
    }

    /// Registers the handler told when work for `tick()` becomes pending: with the instant it is
    /// due (a debounced value), or `nil` when only `tick()` can tell (a child missing from its
    /// list). The supervisor sleeps until the next due work instead of ticking every second.
    public func onPending(_ handler: @escaping @Sendable (Instant?) -> Void) {
        pendingHandler = handler
    }

    /// When the earliest held value or child removal is due; `nil` when none is pending.
    var nextDue: Instant? {
        var due: Instant?
        for state in holding.values {
            for entity in state.entities {
                if let until = entity.filter.heldUntil, due.map({ until < $0 }) ?? true { due = until }
            }
        }
        for record in children.values where !presenceKinds.contains(record.child.kind) {
            guard let listed = kindListedAt[record.child.kind], listed > record.lastSeen else { continue }
            let removal = record.lastSeen + settings.childGracePeriod
            if due.map({ removal < $0 }) ?? true { due = removal }
        }
        return due
    }

    /// After a reconnect: publish every device's current state again.
    public func republishState() {
        let states = allStates
        for state in states {
            for entity in state.entities { entity.filter.reset() }
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
        allStates.first { $0.id == device }?.values ?? [:]
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
    /// `"<id>":`, the entity's key in a device's JSON state: made once per mapping entity and
    /// shared by every device's record of it (2,000 connectors each had their own copies).
    let key: [UInt8]

    init(id: String, component: HAComponent, stateClass: StateClass?, debounce: Duration?) {
        self.component = component
        self.stateClass = stateClass
        self.debounce = debounce
        self.key = DeviceState.Entity.key(of: id)
    }
}
