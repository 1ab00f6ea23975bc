/// Expanding an entity over a list into child devices.
extension MappingEngine {
    /// One list item of an expansion.
    struct ChildItem {
        let value: JSONValue
        let index: Int
        let key: String?
    }

    /// Reads `entities` once per item of the child's list, item by item.
    func expand(
        _ entities: [EntityRead], over child: ChildExpansion, endpoint: String, document: JSONValue,
        into output: inout MappingOutput
    ) {
        guard child.endpoint == endpoint, let first = entities.first else { return }
        let root = ValuePath.Context(document: document)
        guard let (items, listPath) = items(of: child, in: root, entityID: first.entity.id, endpoint: endpoint, issues: &output.issues) else {
            return
        }
        var ids = Set<String>(minimumCapacity: items.count)
        // The children of this kind already in the output, from another list of the same kind;
        // usually none, and then this list's ids are the kind's ids.
        var seen = output.childIDs.removeValue(forKey: child.kind) ?? []
        let onlyList = seen.isEmpty
        for (position, item) in items.enumerated() {
            guard let (id, key) = childID(of: item, child: child, document: document) else {
                for entity in entities {
                    output.issues.append(MappingIssue(
                        entityID: entity.entity.id,
                        endpoint: endpoint,
                        path: listPath.text,
                        message: "item \(position) has no id at \(child.idParts.map(\.description).joined(separator: ", "))"
                    ))
                }
                continue
            }
            guard ids.insert(id).inserted else {
                for entity in entities {
                    output.issues.append(MappingIssue(
                        entityID: entity.entity.id,
                        childID: id,
                        endpoint: endpoint,
                        path: listPath.text,
                        message: "two items have the child id '\(id)'; only the first is used"
                    ))
                }
                continue
            }
            let context = ValuePath.Context(document: document, item: item.value, index: item.index, childKey: key.text)
            // `seen` holds every child of this kind already in the output (from another list
            // of the same kind too), so a child is added once.
            if onlyList || seen.insert(id).inserted {
                output.children.append(childDevice(child, id: id, key: key, context: context))
            }
            for entity in entities {
                if let reading = read(entity, context: context, childID: id, issues: &output.issues) {
                    output.readings.append(reading)
                }
            }
        }
        output.childIDs[child.kind] = onlyList ? ids : seen
    }

    /// The list's items from the first list path present, or `nil` when none is.
    private func items(
        of child: ChildExpansion,
        in context: ValuePath.Context,
        entityID: String,
        endpoint: String,
        issues: inout [MappingIssue]
    ) -> ([ChildItem], ValuePath)? {
        for path in child.listPaths {
            if let wildcard = path.trailingWildcard {
                // `items[*]`: the container's elements (or an object's values in key order), as
                // resolveAll would give them, without collecting matches step by step.
                guard let container = path.resolve(in: context, steps: wildcard), !container.isNull else { continue }
                return (Self.items(in: container) ?? [], path)
            }
            if path.hasWildcard {
                let prefix = ValuePath(root: path.root, segments: Array(path.segments.prefix { $0 != .wildcard }), text: path.text)
                guard let container = prefix.resolve(in: context), !container.isNull else { continue }
                let matches = path.resolveAll(in: context)
                return (matches.enumerated().map { ChildItem(value: $1.value, index: $1.index ?? $0, key: $1.key) }, path)
            }
            guard let list = path.resolve(in: context), !list.isNull else { continue }
            guard let items = Self.items(in: list) else {
                issues.append(MappingIssue(
                    entityID: entityID,
                    endpoint: endpoint,
                    path: path.text,
                    message: "child list: expected an array or an object, got \(list.kindDescription)"
                ))
                return nil
            }
            return (items, path)
        }
        return nil
    }

    /// An array's elements by position, or an object's values in key order; `nil` for any
    /// other value.
    private static func items(in list: JSONValue) -> [ChildItem]? {
        switch list {
        case .array(let elements):
            return elements.enumerated().map { ChildItem(value: $1, index: $0, key: nil) }
        case .object(let members):
            return members.keys.sorted().enumerated().compactMap { index, key in
                members[key].map { ChildItem(value: $0, index: index, key: key) }
            }
        default:
            return nil
        }
    }

    /// The topic-safe id and the API's own id of an item, or `nil` when a part is missing.
    private func childID(of item: ChildItem, child: ChildExpansion, document: JSONValue) -> (String, JSONValue)? {
        if child.idParts.count == 1, case .index = child.idParts[0] {
            // `id: $index`, the usual id of cells: no parts to collect.
            return (String(item.index), .number(Double(item.index)))
        }
        if child.idParts.count == 1, case .path(let path) = child.idParts[0] {
            // One field (`id: mac`): no parts to collect.
            let context = ValuePath.Context(document: document, item: item.value, index: item.index, childKey: nil)
            guard let value = path.resolve(in: context), !value.isNull else { return nil }
            let text = value.text
            return text.isEmpty ? nil : (TopicSafe.id(text), value)
        }
        var parts: [JSONValue] = []
        let context = ValuePath.Context(document: document, item: item.value, index: item.index, childKey: nil)
        for part in child.idParts {
            switch part {
            case .index:
                parts.append(.number(Double(item.index)))
            case .key:
                guard let key = item.key else { return nil }
                parts.append(.string(key))
            case .path(let path):
                guard let value = path.resolve(in: context), !value.isNull, !value.text.isEmpty else { return nil }
                parts.append(value)
            }
        }
        guard let first = parts.first else { return nil }
        let key = parts.count == 1 ? first : .string(parts.map(\.text).joined(separator: "_"))
        return (TopicSafe.id(key.text), key)
    }

    private func childDevice(_ child: ChildExpansion, id: String, key: JSONValue, context: ValuePath.Context) -> ChildDevice {
        let name: String
        if let namePath = child.namePath, let value = namePath.resolve(in: context), !value.isNull, !value.text.isEmpty {
            name = value.text
        } else {
            name = child.kindName + " " + key.text
        }
        let device = child.device.map { deviceFields($0, endpoint: nil, context: context) } ?? [:]
        return ChildDevice(id: id, key: key, name: name, kind: child.kind, device: device)
    }
}
