/// Everything a source type exposes, read from its mapping file (`Mappings/<source>.yaml`)
/// and any overlays.
public struct MappingFile: Sendable, Hashable {
    /// The source type the file maps (`cozify_han`).
    public var source: String
    /// How the main device's discovery block is filled.
    public var device: DeviceTemplate
    /// The entities, in file order (overlay additions last).
    public var entities: [EntityMapping] { didSet { plan = ReadPlan(entities: entities, commands: commands) } }
    /// The commands, in file order (overlay additions last).
    public var commands: [CommandMapping] { didSet { plan = ReadPlan(entities: entities, commands: commands) } }
    /// Lookups derived from `entities` and `commands`, kept current by their `didSet`: the
    /// engine reads every document through it, so nothing is recomputed per document.
    private(set) var plan: ReadPlan
    /// The built-in file's path (or the first overlay's, for a source only an overlay maps).
    public var file: String
    /// The overlay files merged into this mapping, in the order applied.
    public var overlays: [String]
    /// Where `source:` is written.
    public var position: MappingPosition

    /// Creates a mapping.
    public init(
        source: String,
        device: DeviceTemplate = DeviceTemplate(),
        entities: [EntityMapping] = [],
        commands: [CommandMapping] = [],
        file: String,
        overlays: [String] = [],
        position: MappingPosition? = nil
    ) {
        self.source = source
        self.device = device
        self.entities = entities
        self.commands = commands
        self.plan = ReadPlan(entities: entities, commands: commands)
        self.file = file
        self.overlays = overlays
        self.position = position ?? MappingPosition(file: file, line: 0, column: 0, keyPath: "source")
    }

    /// The entity with an id.
    public func entity(_ id: String) -> EntityMapping? {
        plan.entityIndex[id].map { entities[$0] }
    }

    /// The command with an id.
    public func command(_ id: String) -> CommandMapping? {
        plan.commandIndex[id].map { commands[$0] }
    }

    /// Every endpoint name the mapping reads, so an adapter can check it serves them all.
    public var endpoints: Set<String> {
        var names = Set<String>()
        for entity in entities {
            names.formUnion(entity.endpoints)
            if let child = entity.child { names.insert(child.endpoint) }
            if let attributes = entity.attributesFrom { names.insert(attributes.endpoint) }
        }
        for command in commands {
            if let state = command.state { names.insert(state.endpoint) }
            if let child = command.child { names.insert(child.endpoint) }
        }
        for case .source(let source) in device.fields.values {
            names.insert(source.endpoint)
        }
        return names
    }
}

/// What the mapping engine needs per document, computed once per mapping.
struct ReadPlan: Sendable, Hashable {
    /// The entities that read each endpoint (their own values, or their child list), in file
    /// order, followed by the state entities of writable commands without an entity of their own.
    var byEndpoint: [String: [ReadStep]] = [:]
    /// Index into `entities` by id (the first entity with that id, as a linear search would find).
    var entityIndex: [String: Int] = [:]
    /// Index into `commands` by id.
    var commandIndex: [String: Int] = [:]
    /// Endpoints with two child lists of the same kind: a child both name is one device.
    var endpointsSharingKinds: Set<String> = []

    init(entities: [EntityMapping], commands: [CommandMapping]) {
        for (index, entity) in entities.enumerated() where entityIndex[entity.id] == nil { entityIndex[entity.id] = index }
        for (index, command) in commands.enumerated() where commandIndex[command.id] == nil { commandIndex[command.id] = index }
        let stateEntities = commands.compactMap { command in
            entityIndex[command.id] == nil ? MappingEngine.stateEntity(for: command) : nil
        }
        for entity in entities + stateEntities {
            var endpoints: [String] = []
            if let child = entity.child {
                endpoints = [child.endpoint]
            } else {
                for source in entity.sources where !endpoints.contains(source.endpoint) { endpoints.append(source.endpoint) }
            }
            for endpoint in endpoints {
                let read = CompiledEntity(entity: entity, endpoint: endpoint)
                guard let child = entity.child else {
                    byEndpoint[endpoint, default: []].append(.entity(read))
                    continue
                }
                // Entities expanding over the same list are read together, item by item: the
                // list is found, and each item's id computed, once per document.
                let steps = byEndpoint[endpoint] ?? []
                if let index = steps.firstIndex(where: { $0.expands(like: child) }), case .list(let first, let reads) = steps[index] {
                    byEndpoint[endpoint]?[index] = .list(first, reads + [read])
                } else {
                    byEndpoint[endpoint, default: []].append(.list(child, [read]))
                }
            }
        }
        for (endpoint, steps) in byEndpoint {
            let kinds = steps.compactMap { step -> String? in
                if case .list(let child, _) = step { return child.kind }
                return nil
            }
            if Set(kinds).count < kinds.count { endpointsSharingKinds.insert(endpoint) }
        }
    }
}

/// One step of reading a document.
enum ReadStep: Sendable, Hashable {
    /// An entity of the main device.
    case entity(CompiledEntity)
    /// Entities expanded over one list (the first entity's expansion finds the list, the ids
    /// and the names), in file order.
    case list(ChildExpansion, [CompiledEntity])

    /// Whether this step expands over the same list as `child` (same kind and list paths).
    func expands(like child: ChildExpansion) -> Bool {
        guard case .list(let expansion, _) = self else { return false }
        return expansion.kind == child.kind && expansion.listPaths == child.listPaths
    }
}
