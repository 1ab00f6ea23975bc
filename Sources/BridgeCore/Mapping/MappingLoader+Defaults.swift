/// Filling defaults and checking what only the merged mapping can show (an overlay may add
/// the `from:` a partial entry lacks).
extension MappingLoader {
    /// Removes disabled items, fills endpoints, units, state classes and validation from their
    /// defaults, and reports what is still missing.
    static func finalize(_ mapping: MappingFile) -> (MappingFile, [ConfigError]) {
        var errors: [ConfigError] = []
        var result = mapping
        result.entities = mapping.entities.filter(\.enabled).map { finalize($0, errors: &errors) }
        let entities = Dictionary(result.entities.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        result.commands = mapping.commands.filter(\.enabled).map { finalize($0, paired: entities[$0.id], errors: &errors) }
        return (result, errors)
    }

    private static func finalize(_ entity: EntityMapping, errors: inout [ConfigError]) -> EntityMapping {
        var entity = entity
        if entity.sources.isEmpty {
            errors.append(entity.position.error("missing required key 'from'"))
        }
        let sourceEndpoint = entity.sources.map(\.endpoint).first { !$0.isEmpty }
        if var child = entity.child {
            if child.endpoint.isEmpty {
                if let sourceEndpoint {
                    child.endpoint = sourceEndpoint
                } else {
                    errors.append(child.position.error("missing required key 'endpoint' (write it here or in from)"))
                }
            }
            child.device = child.device.map { fillEndpoints($0, with: child.endpoint) }
            entity.child = child
        }
        let fallbackEndpoint = entity.child?.endpoint ?? sourceEndpoint ?? ""
        for index in entity.sources.indices where entity.sources[index].endpoint.isEmpty {
            if fallbackEndpoint.isEmpty, entity.child == nil {
                errors.append(entity.sources[index].position.error("missing required key 'endpoint'"))
            }
            entity.sources[index].endpoint = fallbackEndpoint
        }
        if var attributes = entity.attributesFrom, attributes.endpoint.isEmpty {
            attributes.endpoint = fallbackEndpoint
            entity.attributesFrom = attributes
        }
        if let deviceClass = entity.deviceClass {
            let defaults = DeviceClassTable.defaults(deviceClass: deviceClass, component: entity.component)
            if !entity.writes("unit") { entity.unit = defaults.unit }
            if !entity.writes("state_class") { entity.stateClass = defaults.stateClass }
        }
        for index in entity.sources.indices {
            entity.sources[index].transforms = resolveConversions(
                entity.sources[index].transforms,
                unit: entity.unit,
                at: entity.sources[index].position,
                errors: &errors
            )
        }
        entity.transforms = resolveConversions(entity.transforms, unit: entity.unit, at: entity.position(of: "convert"), errors: &errors)
        return entity
    }

    private static func finalize(_ command: CommandMapping, paired: EntityMapping?, errors: inout [ConfigError]) -> CommandMapping {
        var command = command
        if !command.writes("component"), let component = paired?.component, component.isWritable { command.component = component }
        if !command.writes("child"), let child = paired?.child { command.child = child }
        if !command.writes("options"), let options = paired?.options { command.options = options }
        if !command.writes("min"), let min = paired?.min { command.min = min }
        if !command.writes("max"), let max = paired?.max { command.max = max }
        if !command.writes("step"), let step = paired?.step { command.step = step }
        if !command.writes("unit"), let unit = paired?.unit, command.component == .number { command.unit = unit }
        if !command.writes("validate") {
            command.validation = CommandValidation.defaultValidation(for: command.component)
        }
        if command.validation.kind == .enum, command.validation.options == nil { command.validation.options = command.options }
        if command.validation.kind == .number || command.validation.kind == .integer {
            if command.validation.min == nil { command.validation.min = command.min }
            if command.validation.max == nil { command.validation.max = command.max }
        }
        let stateEndpoint = command.state.map(\.endpoint).flatMap { $0.isEmpty ? nil : $0 }
        if var child = command.child, child.endpoint.isEmpty {
            if let stateEndpoint {
                child.endpoint = stateEndpoint
            } else {
                errors.append(child.position.error("missing required key 'endpoint'"))
            }
            command.child = child
        }
        if var state = command.state, state.endpoint.isEmpty {
            if let endpoint = command.child?.endpoint, !endpoint.isEmpty {
                state.endpoint = endpoint
            } else {
                errors.append(state.position.error("missing required key 'endpoint'"))
            }
            command.state = state
        }
        for transform in command.transforms {
            if case .convert(let from, "") = transform {
                errors.append(command.position(of: "convert").error("a command converts with { from: …, to: … }, got only '\(from)'"))
            }
        }
        return command
    }

    /// `convert: Wh` converts to the entity's unit: fill it in, or report why it cannot be.
    private static func resolveConversions(
        _ transforms: [ValueTransform],
        unit: String?,
        at position: MappingPosition,
        errors: inout [ConfigError]
    ) -> [ValueTransform] {
        transforms.map { transform in
            guard case .convert(let from, "") = transform else { return transform }
            guard let unit else {
                errors.append(position.error("convert: \(from) needs the entity's unit, or write { from: \(from), to: … }"))
                return transform
            }
            guard UnitConversion.canConvert(from: from, to: unit) else {
                errors.append(position.error("cannot convert \(from) to the entity's unit \(unit)"))
                return transform
            }
            return .convert(from: from, to: unit)
        }
    }

    /// A child's device fields read from the child's endpoint.
    private static func fillEndpoints(_ template: DeviceTemplate, with endpoint: String) -> DeviceTemplate {
        var template = template
        for (field, value) in template.fields {
            if case .source(var source) = value, source.endpoint.isEmpty {
                source.endpoint = endpoint
                template.fields[field] = .source(source)
            }
        }
        return template
    }
}
