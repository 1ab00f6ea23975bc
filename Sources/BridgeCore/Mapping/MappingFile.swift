/// Everything a source type exposes, read from its mapping file (`Mappings/<source>.yaml`)
/// and any overlays.
public struct MappingFile: Sendable, Hashable {
    /// The source type the file maps (`cozify_han`).
    public var source: String
    /// How the main device's discovery block is filled.
    public var device: DeviceTemplate
    /// The entities, in file order (overlay additions last).
    public var entities: [EntityMapping]
    /// The commands, in file order (overlay additions last).
    public var commands: [CommandMapping]
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
        self.file = file
        self.overlays = overlays
        self.position = position ?? MappingPosition(file: file, line: 0, column: 0, keyPath: "source")
    }

    /// The entity with an id.
    public func entity(_ id: String) -> EntityMapping? {
        entities.first { $0.id == id }
    }

    /// The command with an id.
    public func command(_ id: String) -> CommandMapping? {
        commands.first { $0.id == id }
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
