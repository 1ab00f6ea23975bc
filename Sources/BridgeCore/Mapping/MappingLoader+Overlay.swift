/// Merging an overlay file into a mapping, key by key.
extension MappingLoader {
    /// The mapping with `overlay`'s device fields, entities and commands merged in.
    ///
    /// Entities and commands match by id: a match changes the keys the overlay writes; a new
    /// id is appended. `enabled: false` survives the merge and is removed by `finalize`.
    static func merge(_ base: MappingFile, overlay: MappingFile) -> MappingFile {
        var merged = base
        merged.device = base.device.merged(with: overlay.device)
        // Merged in local arrays and assigned once each: every assignment to `entities` or
        // `commands` recompiles the mapping's read plan.
        var entities = base.entities
        for entity in overlay.entities {
            if let index = entities.firstIndex(where: { $0.id == entity.id }) {
                entities[index] = entities[index].merged(with: entity)
            } else {
                entities.append(entity)
            }
        }
        var commands = base.commands
        for command in overlay.commands {
            if let index = commands.firstIndex(where: { $0.id == command.id }) {
                commands[index] = commands[index].merged(with: command)
            } else {
                commands.append(command)
            }
        }
        merged.entities = entities
        merged.commands = commands
        merged.overlays.append(overlay.file)
        return merged
    }

    /// The keys that together form an item's transform chain: writing any of them in an
    /// overlay replaces the whole chain, because their order matters.
    static let transformKeys = Set(ValueTransform.names + ["transforms"])
}

/// Copies one field from an overlay item into the merged item.
typealias FieldCopy<Item> = @Sendable (inout Item, Item) -> Void

/// A copy of the field at `keyPath`.
private func copying<Item, Value>(_ keyPath: any WritableKeyPath<Item, Value> & Sendable) -> FieldCopy<Item> {
    { merged, overlay in merged[keyPath: keyPath] = overlay[keyPath: keyPath] }
}

extension EntityMapping {
    /// The one table of the keys an entity writes besides `id` and its transforms, with the
    /// field each sets: the reader accepts exactly these keys, and an overlay that writes one
    /// replaces that field.
    static let fieldKeys: KeyValuePairs<String, FieldCopy<EntityMapping>> = [
        "name": copying(\.name), "component": copying(\.component), "from": copying(\.sources), "child": copying(\.child),
        "precision": copying(\.precision), "device_class": copying(\.deviceClass), "state_class": copying(\.stateClass),
        "unit": copying(\.unit), "entity_category": copying(\.entityCategory), "icon": copying(\.icon),
        "enabled_by_default": copying(\.enabledByDefault), "enabled": copying(\.enabled), "options": copying(\.options),
        "min": copying(\.min), "max": copying(\.max), "step": copying(\.step), "expire_after": copying(\.expireAfter),
        "debounce": copying(\.debounce), "json_attributes": copying(\.attributesFrom), "presence": copying(\.presence),
    ]
    static let fieldCopies = Dictionary(uniqueKeysWithValues: fieldKeys.map { ($0.key, $0.value) })

    /// This entity with the keys `overlay` writes taken from it.
    func merged(with overlay: EntityMapping) -> EntityMapping {
        var merged = self
        var positions = keyPositions
        if overlay.keyPositions.keys.contains(where: MappingLoader.transformKeys.contains) {
            merged.transforms = overlay.transforms
            positions = positions.filter { !MappingLoader.transformKeys.contains($0.key) }
        }
        for key in overlay.keyPositions.keys {
            Self.fieldCopies[key]?(&merged, overlay)  // id and transform keys have none
        }
        merged.keyPositions = positions.merging(overlay.keyPositions) { _, new in new }
        merged.position = overlay.position
        return merged
    }
}

extension CommandMapping {
    /// The one table of the keys a command writes besides `id`, its target (`call` / `action`)
    /// and its transforms, with the field each sets (see ``EntityMapping/fieldKeys``).
    static let fieldKeys: KeyValuePairs<String, FieldCopy<CommandMapping>> = [
        "name": copying(\.name), "component": copying(\.component), "entity_category": copying(\.entityCategory),
        "icon": copying(\.icon), "device_class": copying(\.deviceClass), "unit": copying(\.unit), "state": copying(\.state),
        "validate": copying(\.validation), "options": copying(\.options), "min": copying(\.min), "max": copying(\.max),
        "step": copying(\.step), "child": copying(\.child), "enabled_by_default": copying(\.enabledByDefault),
        "enabled": copying(\.enabled),
    ]
    static let fieldCopies = Dictionary(uniqueKeysWithValues: fieldKeys.map { ($0.key, $0.value) })

    /// This command with the keys `overlay` writes taken from it.
    func merged(with overlay: CommandMapping) -> CommandMapping {
        var merged = self
        var positions = keyPositions
        if overlay.keyPositions.keys.contains(where: MappingLoader.transformKeys.contains) {
            merged.transforms = overlay.transforms
            positions = positions.filter { !MappingLoader.transformKeys.contains($0.key) }
        }
        if overlay.writes("call") || overlay.writes("action") {
            merged.target = overlay.target
            positions = positions.filter { $0.key != "call" && $0.key != "action" }
        }
        for key in overlay.keyPositions.keys {
            Self.fieldCopies[key]?(&merged, overlay)  // id, target and transform keys have none
        }
        merged.keyPositions = positions.merging(overlay.keyPositions) { _, new in new }
        merged.position = overlay.position
        return merged
    }
}

extension MappingLoader {
    /// The mapping a source runs with: its type's mapping, with the source's own `mapping:`
    /// overlay applied. `nil` when no mapping exists for the type.
    public static func mapping(for source: SourceConfiguration, in mappings: [String: MappingFile]) throws -> MappingFile? {
        guard let mapping = mappings[source.type.rawValue] else { return nil }
        guard let overlay = source.mapping else { return mapping }
        return try MappingLoader.overlay(mapping, with: overlay)
    }
}

