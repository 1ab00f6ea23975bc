/// Expanding an entity over a list into child devices.
extension MappingEngine {
    /// One list item of an expansion.
    struct ChildItem {
        let value: JSONValue
        let index: Int
        let key: String?
    }

    /// A list's items: an array's elements as they are (the usual list, read without building
    /// an item per element up front), or items collected from an object or a deeper path.
    enum ChildItems {
        case elements([JSONValue])
        case items([ChildItem])

        var count: Int {
            switch self {
            case .elements(let elements): elements.count
            case .items(let items): items.count
            }
        }

        subscript(position: Int) -> ChildItem {
            switch self {
            case .elements(let elements): ChildItem(value: elements[position], index: position, key: nil)
            case .items(let items): items[position]
            }
        }
    }

    /// Reads `entities` once per item of the child's list, item by item.
    func expand(
        _ entities: [CompiledEntity], over child: ChildExpansion, endpoint: String, document: JSONValue,
        into output: inout MappingOutput
    ) {
        guard child.endpoint == endpoint, let first = entities.first else { return }
        let root = ValuePath.Context(document: document)
        guard let (items, listPath) = items(of: child, in: root, entityID: first.entity.id, endpoint: endpoint, issues: &output.issues)
        else { return }
        // The ids an earlier list of this kind named (a child named again is one device, described
        // once), and this list's (of two items with one id, only the first is used).
        let earlier = output.childIDs[child.kind] ?? []
        var ids = Set<String>(minimumCapacity: items.count)
        output.children.reserveCapacity(output.children.count + items.count)
        output.readings.reserveCapacity(output.readings.count + items.count * entities.count)
        for position in 0..<items.count {
            let item = items[position]
            var context = ValuePath.Context(document: document, item: item.value, index: item.index, childKey: nil)
            guard let (key, keyText) = childKey(of: item, parts: child.idParts, context: context) else {
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
            let id = TopicSafe.id(keyText)
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
            context.childKey = keyText
            var parentID: String?
            if let parent = child.parent {
                guard let (_, parentText) = childKey(of: item, parts: parent.idParts, context: context) else {
                    ids.remove(id)
                    for entity in entities {
                        output.issues.append(MappingIssue(
                            entityID: entity.entity.id, childID: id, endpoint: endpoint, path: listPath.text,
                            message: "item \(position) names no \(parent.kind) at \(parent.idParts.map(\.description).joined(separator: ", "))"
                        ))
                    }
                    continue
                }
                parentID = TopicSafe.id(parentText)
            }
            if earlier.isEmpty || !earlier.contains(id) {
                output.children.append(device(of: child, id: id, key: key, keyText: keyText, parentID: parentID, context: context))
            }
            for entity in entities {
                if let (value, attributes) = read(entity, context: context, childID: id, issues: &output.issues) {
                    output.readings.append(Reading(entityID: entity.entity.id, childID: id, value: value, attributes: attributes))
                }
            }
        }
        // A kind is present when its list was, even with no usable item.
        output.childIDs[child.kind] = earlier.isEmpty ? ids : earlier.union(ids)
    }

    /// The list's items from the first list path present, or `nil` when none is.
    private func items(
        of child: ChildExpansion,
        in context: ValuePath.Context,
        entityID: String,
        endpoint: String,
        issues: inout [MappingIssue]
    ) -> (ChildItems, ValuePath)? {
        for path in child.listPaths {
            if path.hasWildcard {
                // Present when what the first `[*]` reads from is.
                guard let container = path.wildcardContainer(in: context), !container.isNull else { continue }
                // `cells[*]`: the container's items.
                if path.segments.firstIndex(of: .wildcard) == path.segments.count - 1 {
                    return (Self.items(in: container) ?? .items([]), path)
                }
                let matches = path.resolveAll(in: context)
                return (.items(matches.enumerated().map { ChildItem(value: $1.value, index: $1.index ?? $0, key: $1.key) }), path)
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
    private static func items(in list: JSONValue) -> ChildItems? {
        switch list {
        case .array(let elements):
            return .elements(elements)
        case .object(let members):
            return .items(
                members.keys.sorted().enumerated().compactMap { index, key in
                    members[key].map { ChildItem(value: $0, index: index, key: key) }
                })
        default:
            return nil
        }
    }

    /// The API's own id of an item and its text, or `nil` when a part is missing or empty: one
    /// part as it is, several as an object by part name (so an adapter or a call gets each
    /// field, never a joined string that breaks on ids containing `_`). The text, parts joined
    /// by `_` and made topic-safe, is the child's id.
    /// `context` is the item's, without its child key (which this finds).
    private func childKey(
        of item: ChildItem, parts idParts: [ChildExpansion.IDPart], context: ValuePath.Context
    ) -> (key: JSONValue, text: String)? {
        // One part (the usual case): its value as it is, with no list of parts built.
        if idParts.count == 1 {
            guard let value = partValue(idParts[0], of: item, context: context) else { return nil }
            return (value, value.text)
        }
        var parts: [(name: String, value: JSONValue)] = []
        for part in idParts {
            guard let value = partValue(part, of: item, context: context) else { return nil }
            parts.append((part.name, value))
        }
        guard !parts.isEmpty else { return nil }
        let key = JSONValue.object(Dictionary(parts.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }))
        return (key, parts.map(\.value.text).joined(separator: "_"))
    }

    /// The value of one id part of an item, or `nil` when it is missing or empty (as in
    /// ``childKey(of:parts:context:)``).
    private func partValue(_ part: ChildExpansion.IDPart, of item: ChildItem, context: ValuePath.Context) -> JSONValue? {
        switch part {
        case .index:
            return .number(Double(item.index))
        case .key:
            return item.key.map { .string($0) }
        case .path(let path):
            guard let value = path.resolve(in: context), !value.isNull, !value.text.isEmpty else { return nil }
            return value
        }
    }

    /// The child an item describes: its name (the item's, or "<Kind> <key>") and device fields.
    private func device(
        of child: ChildExpansion, id: String, key: JSONValue, keyText: String, parentID: String?, context: ValuePath.Context
    ) -> ChildDevice {
        let name: String
        if let namePath = child.namePath, let value = namePath.resolve(in: context), !value.isNull, !value.text.isEmpty {
            name = value.text
        } else {
            name = child.kindName + " " + keyText
        }
        let fields = child.device.map { deviceFields($0, endpoint: nil, context: context) } ?? [:]
        return ChildDevice(id: id, key: key, name: name, kind: child.kind, device: fields, parentID: parentID)
    }
}
