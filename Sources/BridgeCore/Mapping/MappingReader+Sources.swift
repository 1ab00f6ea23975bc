/// Reading `from:` sources, transforms, `child:` expansions and the `device:` block.
extension MappingReader {
    /// The keys a `from:` source accepts.
    static let sourceKeys = ["endpoint", "path", "transforms"] + ValueTransform.names

    /// `from:`: one source (a mapping) or alternatives (a list of mappings).
    ///
    /// - Returns: The sources, or `nil` when any is unusable (reported).
    func sources(_ value: ConfigNode) -> [ValueSource]? {
        let elements: [ConfigNode]
        if case .sequence = value.node {
            guard let list = reader.elements(of: value) else { return nil }
            guard !list.isEmpty else {
                reader.report("must list at least one source", at: value.position, path: value.path)
                return nil
            }
            elements = list
        } else {
            elements = [value]
        }
        let sources = elements.compactMap(source)
        return sources.count == elements.count ? sources : nil
    }

    /// One source: `{ endpoint: meter, path: pi[0], scale: 0.001 }`. The endpoint may be left
    /// out inside a child entity (the child's endpoint is used).
    func source(_ value: ConfigNode) -> ValueSource? {
        guard let section = reader.section(value) else { return nil }
        reader.rejectUnknownKeys(in: section, allowed: Self.sourceKeys)
        reader.requireKey("path", in: section)
        let endpoint = section["endpoint"].flatMap(identifier)
        let path = section["path"].flatMap(valuePath)
        let transforms = transforms(in: section)
        guard let path, let transforms, section["endpoint"] == nil || endpoint != nil else { return nil }
        return ValueSource(
            endpoint: endpoint ?? "",
            path: path,
            transforms: transforms,
            position: position(value),
            pathPosition: section["path"].map(position)
        )
    }

    /// A path-only source (`json_attributes: attributes`, a child's device field), or a full one.
    func pathOrSource(_ value: ConfigNode, endpoint: String = "") -> ValueSource? {
        guard case .mapping = value.node else {
            return valuePath(value).map { ValueSource(endpoint: endpoint, path: $0, position: position(value)) }
        }
        return source(value)
    }

    // MARK: - Transforms

    /// The transforms a section writes, in file order: its transform keys (`scale:`, `map:`, …)
    /// and the items of its `transforms:` list, where that key stands.
    ///
    /// - Returns: The transforms, or `nil` when any is unusable (reported).
    func transforms(in section: ConfigSection) -> [ValueTransform]? {
        var transforms: [ValueTransform] = []
        var failed = false
        for key in section.keys {
            guard let value = section[key.name] else { continue }
            if key.name == "transforms" {
                if let list = transformList(value) { transforms += list } else { failed = true }
            } else if ValueTransform.names.contains(key.name) {
                if let read = transform(key.name, value) { transforms += read } else { failed = true }
            }
        }
        return failed ? nil : transforms
    }

    /// `transforms: [ { scale: 0.1 }, { offset: -40 } ]`: for repeats or an order the keys cannot show.
    private func transformList(_ value: ConfigNode) -> [ValueTransform]? {
        guard let elements = reader.elements(of: value) else { return nil }
        var transforms: [ValueTransform] = []
        var failed = false
        for element in elements {
            guard let section = reader.section(element) else {
                failed = true
                continue
            }
            guard section.keys.count == 1, let key = section.keys.first else {
                reader.report(
                    "each transform is a mapping with one key, such as { scale: 0.001 }",
                    at: section.position,
                    path: section.path
                )
                failed = true
                continue
            }
            guard ValueTransform.names.contains(key.name) else {
                var message = "unknown transform '\(key.name)'"
                if let suggestion = KeySuggestion.closest(to: key.name, among: ValueTransform.names) {
                    message += " (did you mean '\(suggestion)'?)"
                } else {
                    message += " (known: \(ValueTransform.names.joined(separator: ", ")))"
                }
                reader.report(message, at: key.position, path: section.path(key.name))
                failed = true
                continue
            }
            guard let value = section[key.name], let read = transform(key.name, value) else {
                if section[key.name] == nil {
                    reader.report("'\(key.name)' needs a value", at: key.position, path: section.path(key.name))
                }
                failed = true
                continue
            }
            transforms += read
        }
        return failed ? nil : transforms
    }

    /// One transform by name; `invert: false` is no transform at all.
    private func transform(_ name: String, _ value: ConfigNode) -> [ValueTransform]? {
        switch name {
        case "scale":
            guard let factor = number(value) else { return nil }
            guard factor != 0 else {
                reader.report("a scale of 0 would make every value 0", at: value.position, path: value.path)
                return nil
            }
            return [.scale(factor)]
        case "offset":
            return number(value).map { [.offset($0)] }
        case "round":
            return decimals(value).map { [.round($0)] }
        case "invert":
            return reader.bool(value).map { $0 ? [.invert] : [] }
        case "map":
            return valueMap(value).map { [.map($0)] }
        case "convert":
            return conversion(value).map { [$0] }
        case "epoch":
            guard let text = reader.nonEmptyString(value) else { return nil }
            guard let unit = ValueTransform.EpochUnit(rawValue: text) else {
                let known = ValueTransform.EpochUnit.allCases.map(\.rawValue).joined(separator: ", ")
                reader.report("unknown epoch unit '\(text)' (known: \(known))", at: value.position, path: value.path)
                return nil
            }
            return [.epoch(unit)]
        default:
            reader.report("unknown transform '\(name)'", at: value.position, path: value.path)
            return nil
        }
    }

    /// `map: { CHARGING: true, IDLE: false }`.
    func valueMap(_ value: ConfigNode) -> [String: JSONValue]? {
        guard case .mapping(let mapping) = value.node else {
            reader.report("expected a mapping of values, such as { ON: true, OFF: false }, got \(value.shapeDescription)", at: value.position, path: value.path)
            return nil
        }
        var table: [String: JSONValue] = [:]
        for pair in mapping.pairs {
            table[pair.key.string] = Self.json(pair.value)
        }
        guard !table.isEmpty else {
            reader.report("an empty map changes nothing", at: value.position, path: value.path)
            return nil
        }
        return table
    }

    /// `convert: { from: Wh, to: kWh }`, or `convert: Wh` (to the entity's unit, filled in later).
    private func conversion(_ value: ConfigNode) -> ValueTransform? {
        guard case .mapping = value.node else {
            guard let from = reader.nonEmptyString(value) else { return nil }
            guard UnitConversion.groups.contains(where: { $0[from] != nil }) || UnitConversion.temperatures.contains(from)
            else {
                reader.report("cannot convert from unknown unit '\(from)'", at: value.position, path: value.path)
                return nil
            }
            return .convert(from: from, to: "")
        }
        guard let section = reader.section(value) else { return nil }
        reader.rejectUnknownKeys(in: section, allowed: ["from", "to"])
        reader.requireKey("from", in: section)
        reader.requireKey("to", in: section)
        guard let from = section["from"].flatMap(reader.nonEmptyString), let to = section["to"].flatMap(reader.nonEmptyString)
        else { return nil }
        guard UnitConversion.canConvert(from: from, to: to) else {
            reader.report("cannot convert \(from) to \(to)", at: value.position, path: value.path)
            return nil
        }
        return .convert(from: from, to: to)
    }

    // MARK: - Child expansion

    /// The keys `child:` accepts.
    static let childKeys = ["kind", "endpoint", "list", "id", "name", "device", "parent"]

    /// `child: { kind: connector, list: connectors, id: connector_id, name: title }`.
    func child(_ value: ConfigNode) -> ChildExpansion? {
        guard let section = reader.section(value) else { return nil }
        reader.rejectUnknownKeys(in: section, allowed: Self.childKeys)
        for key in ["kind", "list", "id"] { reader.requireKey(key, in: section) }
        let kind = section["kind"].flatMap(identifier)
        let endpoint = section["endpoint"].flatMap(identifier)
        let lists = section["list"].flatMap(valuePaths)
        let idParts = section["id"].flatMap(childIDParts)
        let name = section["name"].flatMap(valuePath)
        let device = section["device"].flatMap { childDevice($0, endpoint: endpoint ?? "") }
        let parent = section["parent"].flatMap(childParent)
        guard let kind, let lists, let idParts,
            section["endpoint"] == nil || endpoint != nil,
            section["name"] == nil || name != nil,
            section["device"] == nil || device != nil,
            section["parent"] == nil || parent != nil
        else { return nil }
        if let parent, parent.kind == kind {
            reader.report("a child cannot be its own kind's parent", at: value.position, path: value.path)
            return nil
        }
        return ChildExpansion(
            kind: kind,
            endpoint: endpoint ?? "",
            listPaths: lists,
            idParts: idParts,
            namePath: name,
            device: device,
            parent: parent,
            position: position(value)
        )
    }

    /// `parent: { kind: charge_point, id: charge_point_id }`.
    private func childParent(_ value: ConfigNode) -> ChildExpansion.Parent? {
        guard let section = reader.section(value) else { return nil }
        reader.rejectUnknownKeys(in: section, allowed: ["kind", "id"])
        for key in ["kind", "id"] { reader.requireKey(key, in: section) }
        guard let kind = section["kind"].flatMap(identifier), let idParts = section["id"].flatMap(childIDParts) else { return nil }
        return ChildExpansion.Parent(kind: kind, idParts: idParts)
    }

    /// `id: connector_id`, `id: [charge_point_id, connector_id]`, `id: $index`, `id: $key`.
    private func childIDParts(_ value: ConfigNode) -> [ChildExpansion.IDPart]? {
        let elements: [ConfigNode]
        if case .sequence = value.node {
            guard let list = reader.elements(of: value), !list.isEmpty else {
                reader.report("must name at least one field", at: value.position, path: value.path)
                return nil
            }
            elements = list
        } else {
            elements = [value]
        }
        let parts: [ChildExpansion.IDPart] = elements.compactMap { element in
            switch element.text {
            case "$index": return .index
            case "$key": return .key
            default: return valuePath(element).map(ChildExpansion.IDPart.path)
            }
        }
        return parts.count == elements.count ? parts : nil
    }

    /// A child's `device:` block: each field is a path in the list item.
    private func childDevice(_ value: ConfigNode, endpoint: String) -> DeviceTemplate? {
        guard let section = reader.section(value) else { return nil }
        let names = DeviceTemplate.Field.allCases.map(\.rawValue)
        reader.rejectUnknownKeys(in: section, allowed: names)
        var template = DeviceTemplate()
        var failed = false
        for field in DeviceTemplate.Field.allCases {
            guard let entry = section[field.rawValue] else { continue }
            guard let source = pathOrSource(entry, endpoint: endpoint) else {
                failed = true
                continue
            }
            template.fields[field] = .source(source)
            template.positions[field] = position(entry)
        }
        return failed ? nil : template
    }

    // MARK: - Device

    /// `device:`: each field is literal text, or `{ from: { endpoint: …, path: … } }`.
    func deviceTemplate(_ value: ConfigNode) -> DeviceTemplate? {
        guard let section = reader.section(value) else { return nil }
        reader.rejectUnknownKeys(in: section, allowed: DeviceTemplate.Field.allCases.map(\.rawValue))
        var template = DeviceTemplate()
        for field in DeviceTemplate.Field.allCases {
            guard let entry = section[field.rawValue] else { continue }
            if case .mapping = entry.node {
                guard let inner = reader.section(entry) else { continue }
                reader.rejectUnknownKeys(in: inner, allowed: ["from"])
                reader.requireKey("from", in: inner)
                guard let from = inner["from"], let source = source(from) else { continue }
                if source.endpoint.isEmpty {
                    reader.report("missing required key 'endpoint'", at: from.position, path: from.path)
                    continue
                }
                template.fields[field] = .source(source)
            } else if let text = reader.nonEmptyString(entry) {
                template.fields[field] = .literal(text)
            }
            template.positions[field] = position(entry)
        }
        return template
    }
}
