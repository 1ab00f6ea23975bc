/// Expanding an entity over a list into child devices.
extension MappingEngine {
    /// One list item of an expansion.
    struct ChildItem {
        let value: JSONValue
        let index: Int
        let key: String?
    }

    /// One list of one document, resolved once and shared by every entity that expands over it
    /// (a 1,000-item list with three entities would otherwise find the items, compute every id
    /// and check for duplicates three times).
    struct ResolvedList {
        /// The list path that was present.
        let path: ValuePath
        /// Each item with its context, id and key, or nil where the item has no id.
        var entries: [Entry?]
        /// Whether the children of this list were already added to the output.
        var childrenAdded = false

        struct Entry {
            let id: String
            let key: JSONValue
            let context: ValuePath.Context
            /// An earlier item has the same id: this one is skipped.
            let duplicate: Bool
        }
    }

    /// Lists resolved for the current document, by child kind and list path; nil when no list
    /// path is present (or an issue was reported for it).
    struct ChildIDCache {
        var lists: [String: ResolvedList?] = [:]
    }

    /// Reads `entity` once per item of the child's list.
    func expand(
        _ entity: EntityMapping, over child: ChildExpansion, endpoint: String, document: JSONValue,
        into output: inout MappingOutput, ids cache: inout ChildIDCache
    ) {
        guard child.endpoint == endpoint else { return }
        let cacheKey = child.kind + "\u{0}" + child.listPaths.map(\.text).joined(separator: "\u{0}")
        let resolved: ResolvedList?
        if let cached = cache.lists[cacheKey] {
            resolved = cached
        } else {
            resolved = resolve(child, document: document, entityID: entity.id, endpoint: endpoint, issues: &output.issues)
            cache.lists[cacheKey] = .some(resolved)
        }
        guard var list = resolved else { return }
        let addChildren = !list.childrenAdded
        var seen = addChildren ? (output.childIDs.removeValue(forKey: child.kind) ?? []) : []
        for (index, entry) in list.entries.enumerated() {
            guard let entry else {
                output.issues.append(MappingIssue(
                    entityID: entity.id,
                    endpoint: endpoint,
                    path: list.path.text,
                    message: "item \(index) has no id at \(child.idParts.map(\.description).joined(separator: ", "))"
                ))
                continue
            }
            guard !entry.duplicate else {
                output.issues.append(MappingIssue(
                    entityID: entity.id,
                    childID: entry.id,
                    endpoint: endpoint,
                    path: list.path.text,
                    message: "two items have the child id '\(entry.id)'; only the first is used"
                ))
                continue
            }
            // `seen` holds every child of this kind already in the output (from another list
            // of the same kind too), so a child is added once.
            if addChildren, seen.insert(entry.id).inserted {
                output.children.append(childDevice(child, id: entry.id, key: entry.key, context: entry.context))
            }
            if let reading = read(entity, endpoint: endpoint, context: entry.context, childID: entry.id, issues: &output.issues) {
                output.readings.append(reading)
            }
        }
        if addChildren {
            output.childIDs[child.kind] = seen
            list.childrenAdded = true
            cache.lists[cacheKey] = .some(list)
        }
    }

    /// Finds the child's list in the document and resolves every item's id and context.
    private func resolve(
        _ child: ChildExpansion, document: JSONValue, entityID: String, endpoint: String, issues: inout [MappingIssue]
    ) -> ResolvedList? {
        let root = ValuePath.Context(document: document)
        guard let (items, listPath) = items(of: child, in: root, entityID: entityID, endpoint: endpoint, issues: &issues) else {
            return nil
        }
        var ids = Set<String>(minimumCapacity: items.count)
        let entries: [ResolvedList.Entry?] = items.map { item in
            guard let (id, key) = childID(of: item, child: child, document: document) else { return nil }
            let context = ValuePath.Context(document: document, item: item.value, index: item.index, childKey: key.text)
            return ResolvedList.Entry(id: id, key: key, context: context, duplicate: !ids.insert(id).inserted)
        }
        return ResolvedList(path: listPath, entries: entries)
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
            name = child.kindName + " " + key.text
        }
        let device = child.device.map { deviceFields($0, endpoint: nil, context: context) } ?? [:]
        return ChildDevice(id: id, key: key, name: name, kind: child.kind, device: device)
    }
}
