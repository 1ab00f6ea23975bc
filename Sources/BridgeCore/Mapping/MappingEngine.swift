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
        var output = MappingOutput()
        output.device = deviceFields(mapping.device, endpoint: endpoint, context: ValuePath.Context(document: document))
        var childIDs = ChildIDCache()
        for entity in mapping.plan.byEndpoint[endpoint] ?? [] {
            if let child = entity.child {
                expand(entity, over: child, endpoint: endpoint, document: document, into: &output, ids: &childIDs)
            } else if let reading = read(entity, endpoint: endpoint, context: ValuePath.Context(document: document), childID: nil, issues: &output.issues) {
                output.readings.append(reading)
            }
        }
        return output
    }

    /// The reading of one entity in one context, or `nil` when its value is absent or unusable
    /// (then an issue is added).
    func read(
        _ entity: EntityMapping,
        endpoint: String,
        context: ValuePath.Context,
        childID: String?,
        issues: inout [MappingIssue]
    ) -> Reading? {
        guard entity.sources.contains(where: { $0.endpoint == endpoint }) else { return nil }
        var found: (value: JSONValue, source: ValueSource)?
        for source in entity.sources where source.endpoint == endpoint {
            guard let raw = source.path.resolve(in: context) else { continue }
            if raw.isNull {
                if found == nil { found = (raw, source) }
                continue
            }
            found = (raw, source)
            break
        }
        guard let (raw, source) = found else { return nil }
        func issue(_ message: String) -> Reading? {
            issues.append(MappingIssue(entityID: entity.id, childID: childID, endpoint: endpoint, path: source.path.text, message: message))
            return nil
        }
        var transformed = raw
        if !source.transforms.isEmpty {
            switch source.transforms.apply(to: transformed) {
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
        switch Self.normalise(transformed, for: entity) {
        case .success(let normalised): value = normalised
        case .failure(let failure): return issue(failure.message)
        }
        var attributes: JSONValue?
        if let attributeSource = entity.attributesFrom, attributeSource.endpoint == endpoint,
            let found = attributeSource.path.resolve(in: context)
        {
            if case .object = found {
                attributes = found
            } else if !found.isNull {
                issues.append(MappingIssue(
                    entityID: entity.id,
                    childID: childID,
                    endpoint: endpoint,
                    path: attributeSource.path.text,
                    message: "json_attributes: expected an object, got \(found.kindDescription)"
                ))
            }
        }
        return Reading(entityID: entity.id, childID: childID, value: value, attributes: attributes)
    }

    /// Shapes a transformed value the way the entity's component publishes it.
    static func normalise(_ value: JSONValue, for entity: EntityMapping) -> Result<ReadingValue, ValidationFailure> {
        if value.isNull { return .success(.null) }
        if entity.isNumeric {
            guard let number = value.numericValue else {
                return .failure(ValidationFailure(message: "expected a number, got \(value.shortDescription)"))
            }
            return .success(Self.number(number, entity: entity))
        }
        switch entity.component {
        case .binarySensor, .switch:
            return CommandValidation(kind: .boolean).validate(value).flatMap { normalised in
                normalised.boolValue.map { .success(.bool($0)) } ?? .failure(ValidationFailure(message: "expected ON or OFF"))
            }.mapError { ValidationFailure(message: $0.message) }
        case .deviceTracker:
            if case .bool(let home) = value { return .success(.string(home ? "home" : "not_home")) }
            return .success(.string(value.text))
        default:
            break
        }
        if let options = entity.options, entity.component == .select || entity.component == .event || entity.deviceClass == "enum" {
            let text = value.text
            guard options.contains(text) else {
                return .failure(ValidationFailure(message: "'\(text)' is not one of the options (\(options.joined(separator: ", ")))"))
            }
            return .success(.string(text))
        }
        switch value {
        case .number(let number): return .success(Self.number(number, entity: entity))
        case .bool(let flag): return .success(.bool(flag))
        case .string(let text): return .success(.string(text))
        case .null: return .success(.null)
        case .array, .object: return .success(.string(value.jsonString))
        }
    }

    /// A number rounded to the entity's precision here, before the change filter and the
    /// counter guard compare it: 230.14 and 230.12 published as 230.1 are the same value.
    static func number(_ value: Double, entity: EntityMapping) -> ReadingValue {
        .number(ReadingValue.round(value, to: entity.precision), precision: entity.precision)
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
