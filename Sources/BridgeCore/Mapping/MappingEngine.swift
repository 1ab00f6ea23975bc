/// Turns an API document into normalised readings, following a mapping.
///
/// Adapters deliver each document under an endpoint name (`meter`, `status`); the engine
/// reads every entity with a source on that endpoint, expands child entities over their
/// lists, and reports values that do not fit as issues rather than failing:
///
/// ```swift
/// let output = MappingEngine().readings(endpoint: "meter", document: document, mapping: mapping)
/// for reading in output.readings { publish(reading) }
/// ```
///
/// Entities expanded over the same list are read item by item (all of the first child's
/// readings, then the second's), other entities in file order.
///
/// An entity whose paths are all absent gives no reading (the value is simply not in this
/// document); a JSON `null` gives a `.null` reading ("unknown") when no alternative has a value.
public struct MappingEngine: Sendable {
    /// Creates an engine; it holds no state.
    public init() {}

    /// Reads everything a mapping takes from one document.
    ///
    /// - Parameters:
    ///   - endpoint: The endpoint name the document came from.
    ///   - document: The parsed document.
    ///   - mapping: The source type's mapping.
    public func readings(endpoint: String, document: JSONValue, mapping: MappingFile) -> MappingOutput {
        let root = ValuePath.Context(document: document)
        var output = MappingOutput()
        output.device = deviceFields(mapping.device, endpoint: endpoint, context: root)
        guard let steps = mapping.plan.byEndpoint[endpoint] else { return output }
        for step in steps {
            switch step {
            case .entity(let entity):
                if let (value, attributes) = read(entity, context: root, childID: nil, issues: &output.issues) {
                    output.readings.append(Reading(entityID: entity.entity.id, value: value, attributes: attributes))
                }
            case .list(let child, let entities):
                expand(entities, over: child, endpoint: endpoint, document: document, into: &output)
            }
        }
        return output
    }

    /// The value (and attributes) of one entity in one context, or `nil` when its value is
    /// absent or unusable (then an issue is added to `issues`).
    func read(
        _ entity: CompiledEntity, context: ValuePath.Context, childID: String?, issues: inout [MappingIssue]
    ) -> (ReadingValue, JSONValue?)? {
        // The first alternative with a value wins; a `null` counts only when none has one.
        var found: (value: JSONValue, source: Int)?
        for index in entity.sources.indices {
            guard let raw = entity.sources[index].path.resolve(in: context) else { continue }
            if raw.isNull {
                if found == nil { found = (raw, index) }
                continue
            }
            found = (raw, index)
            break
        }
        guard let (raw, source) = found else { return nil }
        // The path of an issue: the source's that was read, unless another is given.
        func issue(_ message: String, path: ValuePath? = nil) -> (ReadingValue, JSONValue?)? {
            let text = path?.text ?? entity.sources[source].path.text
            issues.append(
                MappingIssue(entityID: entity.entity.id, childID: childID, endpoint: entity.endpoint, path: text, message: message))
            return nil
        }
        var transformed = raw
        if !entity.sources[source].transforms.isEmpty {
            switch entity.sources[source].transforms.apply(to: transformed) {
            case .success(let value): transformed = value
            case .failure(let failure): return issue(failure.description)
            }
        }
        if !entity.transforms.isEmpty {
            switch entity.transforms.apply(to: transformed) {
            case .success(let value): transformed = value
            case .failure(let failure): return issue(failure.description)
            }
        }
        let value: ReadingValue
        switch Self.normalise(transformed, shape: entity.shape) {
        case .success(let normalised): value = normalised
        case .failure(let failure): return issue(failure.message)
        }
        var attributes: JSONValue?
        if let path = entity.attributes, let found = path.resolve(in: context) {
            if case .object = found {
                attributes = found
            } else if !found.isNull {
                _ = issue("json_attributes: expected an object, got \(found.kindDescription)", path: path)
            }
        }
        return (value, attributes)
    }

    /// Shapes a transformed value as `shape` says.
    static func normalise(_ value: JSONValue, shape: CompiledEntity.Shape) -> Result<ReadingValue, ValidationFailure> {
        if value.isNull { return .success(.null) }
        switch shape {
        case .numeric(let precision):
            guard let number = value.numericValue else {
                return .failure(ValidationFailure(message: "expected a number, got \(value.shortDescription)"))
            }
            return .success(Self.number(number, precision: precision))
        case .boolean:
            if case .bool(let flag) = value { return .success(.bool(flag)) }
            return CommandValidation(kind: .boolean).validate(value).flatMap { normalised in
                normalised.boolValue.map { .success(.bool($0)) } ?? .failure(ValidationFailure(message: "expected ON or OFF"))
            }.mapError { ValidationFailure(message: $0.message) }
        case .tracker:
            if case .bool(let home) = value { return .success(.string(home ? "home" : "not_home")) }
            return .success(.string(value.text))
        case .option(let options, let list):
            let text = value.text
            guard options.contains(text) else {
                return .failure(ValidationFailure(message: "'\(text)' is not one of the options (\(list.joined(separator: ", ")))"))
            }
            return .success(.string(text))
        case .plain(let precision):
            switch value {
            case .number(let number): return .success(Self.number(number, precision: precision))
            case .bool(let flag): return .success(.bool(flag))
            case .string(let text): return .success(.string(text))
            case .null: return .success(.null)
            case .array, .object: return .success(.string(value.jsonString))
            }
        }
    }

    /// A number rounded to the entity's precision here, before the change filter and the
    /// counter guard compare it: 230.14 and 230.12 published as 230.1 are the same value.
    static func number(_ value: Double, precision: Int?) -> ReadingValue {
        .number(ReadingValue.round(value, to: precision), precision: precision)
    }

    /// The entity that publishes a writable command's `state:`.
    static func stateEntity(for command: CommandMapping) -> EntityMapping? {
        guard let state = command.state else { return nil }
        return EntityMapping(
            id: command.id,
            name: command.name,
            component: command.component ?? .sensor,
            sources: [state],
            unit: command.unit,
            options: command.options,
            child: command.child,
            position: command.position
        )
    }

    /// The device fields: literals, and sources on this endpoint that are present.
    func deviceFields(_ template: DeviceTemplate, endpoint: String?, context: ValuePath.Context) -> [DeviceTemplate.Field: String] {
        var fields: [DeviceTemplate.Field: String] = [:]
        guard !template.fields.isEmpty else { return fields }
        fields.reserveCapacity(template.fields.count)
        for (field, value) in template.fields {
            switch value {
            case .literal(let text):
                fields[field] = text
            case .source(let source):
                guard endpoint == nil || source.endpoint == endpoint,
                    let raw = source.path.resolve(in: context), !raw.isNull,
                    case .success(let value) = source.transforms.apply(to: raw),
                    !value.isNull
                else { continue }
                let text = value.text
                if !text.isEmpty { fields[field] = text }
            }
        }
        return fields
    }
}
