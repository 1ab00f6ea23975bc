/// Expanding an entity over a list into child devices.
extension MappingEngine {
    /// One list item of an expansion.
    struct ChildItem {
        let value: JSONValue
        let index: Int
        let key: String?
    }

    /// Child ids computed once per document and list, shared by every entity of that child kind
    /// (a 1,000-item list with three entities would otherwise compute each id three times).
    struct ChildIDCache {
        var ids: [String: [Int: (id: String, key: JSONValue)?]] = [:]
    }

    /// Reads `entity` once per item of the child's list.
    func expand(
        _ entity: EntityMapping, over child: ChildExpansion, endpoint: String, document: JSONValue,
        into output: inout MappingOutput, ids cache: inout ChildIDCache
    ) {
        guard child.endpoint == endpoint else { return }
        let root = ValuePath.Context(document: document)
        guard let (items, listPath) = items(of: child, in: root, entityID: entity.id, endpoint: endpoint, issues: &output.issues) else {
            return
        }
        var seen = output.childIDs[child.kind] ?? []
        var seenHere = Set<String>()
        let cacheKey = "\(child.kind)\u{0}\(listPath.text)"
        var known = cache.ids[cacheKey] ?? [:]
        defer { cache.ids[cacheKey] = known }
        for item in items {
            let computed: (id: String, key: JSONValue)?
            if let cached = known[item.index] {
                computed = cached
            } else {
                computed = childID(of: item, child: child, document: document)
                known[item.index] = .some(computed)
            }
            guard let (id, key) = computed else {
                output.issues.append(MappingIssue(
                    entityID: entity.id,
                    endpoint: endpoint,
                    path: listPath.text,
                    message: "item \(item.index) has no id at \(child.idParts.map(\.description).joined(separator: ", "))"
                ))
                continue
            }
            guard seenHere.insert(id).inserted else {
                output.issues.append(MappingIssue(
                    entityID: entity.id,
                    childID: id,
                    endpoint: endpoint,
                    path: listPath.text,
                    message: "two items have the child id '\(id)'; only the first is used"
                ))
                continue
            }
            let context = ValuePath.Context(document: document, item: item.value, index: item.index, childKey: key.text)
            // `seen` holds every child of this kind already added to the output (by earlier
            // entities too), so this stays O(1) per item instead of scanning the children.
            if seen.insert(id).inserted {
                output.children.append(childDevice(child, id: id, key: key, context: context))
            }
            if let reading = read(entity, endpoint: endpoint, context: context, childID: id, issues: &output.issues) {
                output.readings.append(reading)
            }
        }
        output.childIDs[child.kind] = seen
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
            if path.hasWildcard {
                let prefix = ValuePath(root: path.root, segments: Array(path.segments.prefix { $0 != .wildcard }), text: path.text)
                guard let container = prefix.resolve(in: context), !container.isNull else { continue }
                let matches = path.resolveAll(in: context)
                return (matches.enumerated().map { ChildItem(value: $1.value, index: $1.index ?? $0, key: $1.key) }, path)
            }
            switch path.resolve(in: context) {
            case nil, .null?:
                continue
            case .array(let elements)?:
                return (elements.enumerated().map { ChildItem(value: $1, index: $0, key: nil) }, path)
            case .object(let members)?:
                let keys = members.keys.sorted()
                return (keys.enumerated().compactMap { index, key in members[key].map { ChildItem(value: $0, index: index, key: key) } }, path)
            case let other?:
                issues.append(MappingIssue(
                    entityID: entityID,
                    endpoint: endpoint,
                    path: path.text,
                    message: "child list: expected an array or an object, got \(other.kindDescription)"
                ))
                return nil
            }
        }
        return nil
    }

    /// The topic-safe id and the API's own id of an item, or `nil` when a part is missing.
    private func childID(of item: ChildItem, child: ChildExpansion, document: JSONValue) -> (String, JSONValue)? {
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
            name = EntityMapping.defaultName(for: child.kind) + " " + key.text
        }
        let device = child.device.map { deviceFields($0, endpoint: nil, context: context) } ?? [:]
        return ChildDevice(id: id, key: key, name: name, kind: child.kind, device: device)
    }
}
