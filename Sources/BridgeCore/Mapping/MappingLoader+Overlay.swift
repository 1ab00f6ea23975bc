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

extension EntityMapping {
    /// This entity with the keys `overlay` writes taken from it.
    func merged(with overlay: EntityMapping) -> EntityMapping {
        var merged = self
        var positions = keyPositions
        if overlay.keyPositions.keys.contains(where: MappingLoader.transformKeys.contains) {
            merged.transforms = overlay.transforms
            positions = positions.filter { !MappingLoader.transformKeys.contains($0.key) }
        }
        for key in overlay.keyPositions.keys {
            switch key {
            case "name": merged.name = overlay.name
            case "component": merged.component = overlay.component
            case "from": merged.sources = overlay.sources
            case "child": merged.child = overlay.child
            case "precision": merged.precision = overlay.precision
            case "device_class": merged.deviceClass = overlay.deviceClass
            case "state_class": merged.stateClass = overlay.stateClass
            case "unit": merged.unit = overlay.unit
            case "entity_category": merged.entityCategory = overlay.entityCategory
            case "icon": merged.icon = overlay.icon
            case "enabled_by_default": merged.enabledByDefault = overlay.enabledByDefault
            case "enabled": merged.enabled = overlay.enabled
            case "options": merged.options = overlay.options
            case "min": merged.min = overlay.min
            case "max": merged.max = overlay.max
            case "step": merged.step = overlay.step
            case "expire_after": merged.expireAfter = overlay.expireAfter
            case "debounce": merged.debounce = overlay.debounce
            case "json_attributes": merged.attributesFrom = overlay.attributesFrom
            default: break  // id, and transform keys handled above
            }
        }
        merged.keyPositions = positions.merging(overlay.keyPositions) { _, new in new }
        merged.position = overlay.position
        return merged
    }
}

extension CommandMapping {
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
            switch key {
            case "name": merged.name = overlay.name
            case "component": merged.component = overlay.component
            case "entity_category": merged.entityCategory = overlay.entityCategory
            case "icon": merged.icon = overlay.icon
            case "device_class": merged.deviceClass = overlay.deviceClass
            case "unit": merged.unit = overlay.unit
            case "state": merged.state = overlay.state
            case "validate": merged.validation = overlay.validation
            case "options": merged.options = overlay.options
            case "min": merged.min = overlay.min
            case "max": merged.max = overlay.max
            case "step": merged.step = overlay.step
            case "child": merged.child = overlay.child
            case "enabled_by_default": merged.enabledByDefault = overlay.enabledByDefault
            case "enabled": merged.enabled = overlay.enabled
            default: break  // id, target and transform keys handled above
            }
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

