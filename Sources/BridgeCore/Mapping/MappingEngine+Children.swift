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

    /// Each child list's children as the previous document of a source named them, by
    /// position: the API's id and the topic-safe id. A list that names the same children in the
    /// same order again, the usual case, needs no topic-safe conversion and no duplicate check.
    /// Only accepted ids (present, and first in their list) are remembered, so the ids a
    /// document takes from the memo are distinct.
    struct ListMemo {
        /// One child's ids, and the device the list last described. A class: a document reads
        /// each of its lists' entries once per item, and a reference is all a hit copies (and
        /// all an event carries).
        final class Named {
            /// The child as the item at this position last described it: its topic-safe `id`
            /// and its `key` (the API's id, compared with the item's) never change.
            fileprivate(set) var device: ChildDevice
            /// `key` as text (for `$child` and the default name).
            let keyText: String
            /// The name when the item has none: "<Kind> <key>".
            let defaultName: String

            /// The topic-safe id.
            var id: String { device.id }

            init(key: JSONValue, keyText: String, expansion: ChildExpansion) {
                self.keyText = keyText
                self.defaultName = expansion.kindName + " " + keyText
                self.device = ChildDevice(id: TopicSafe.id(keyText), key: key, name: defaultName, kind: expansion.kind)
            }
        }

        /// By list (its first entity's read), by position.
        var lists: [ObjectIdentifier: [Named?]] = [:]

        init() {}
    }

    /// Reads `entities` once per item of the child's list, item by item.
    func expand(
        _ entities: [EntityRead], over child: ChildExpansion, endpoint: String, document: JSONValue,
        memo: inout ListMemo, kinds: inout [String: Set<String>]?, _ emit: (Event) -> Void
    ) {
        guard child.endpoint == endpoint, let first = entities.first else { return }
        let root = ValuePath.Context(document: document)
        guard let (items, listPath) = items(of: child, in: root, entityID: first.entity.id, endpoint: endpoint, emit) else {
            return
        }
        emit(.listBegins(kind: child.kind))
        let list = ObjectIdentifier(first)
        var named = memo.lists.removeValue(forKey: list) ?? []
        // This list's ids so far, kept once an item is not the memo's (`nil` while every item is).
        var ids: Set<String>?
        func idsSoFar(_ position: Int) -> Set<String> {
            var set = Set<String>(minimumCapacity: items.count)
            for case let known? in named.prefix(position) { set.insert(known.id) }
            return set
        }
        func remember(_ entry: ListMemo.Named?, at position: Int) {
            if position < named.count { named[position] = entry } else { named.append(entry) }
        }
        for position in 0..<items.count {
            let item = items[position]
            var context = ValuePath.Context(document: document, item: item.value, index: item.index, childKey: nil)
            guard let key = childKey(of: item, child: child, context: context) else {
                remember(nil, at: position)
                for entity in entities {
                    emit(.issue(MappingIssue(
                        entityID: entity.entity.id,
                        endpoint: endpoint,
                        path: listPath.text,
                        message: "item \(position) has no id at \(child.idParts.map(\.description).joined(separator: ", "))"
                    )))
                }
                continue
            }
            let known: ListMemo.Named
            let remembered = position < named.count && named[position].map { $0.device.key == key } == true
            if remembered, let entry = named[position] {
                known = entry
            } else {
                known = ListMemo.Named(key: key, keyText: key.text, expansion: child)
                if ids == nil { ids = idsSoFar(position) }
            }
            if ids != nil, ids?.insert(known.id).inserted == false {
                remember(nil, at: position)
                for entity in entities {
                    emit(.issue(MappingIssue(
                        entityID: entity.entity.id,
                        childID: known.id,
                        endpoint: endpoint,
                        path: listPath.text,
                        message: "two items have the child id '\(known.id)'; only the first is used"
                    )))
                }
                continue
            }
            if !remembered { remember(known, at: position) }
            context.childKey = known.keyText
            // A child named by an earlier list of the same kind is one device, reported once.
            let firstNamed = kinds == nil || kinds?[child.kind, default: []].insert(known.id).inserted == true
            // Reported as changed when its description differs from this position's last one
            // (always, where two lists of a kind can describe one child differently).
            var changed = !remembered || kinds != nil
            let (name, fields) = description(of: child, default: known.defaultName, context: context)
            if known.device.name != name || known.device.device != fields {
                known.device = ChildDevice(id: known.id, key: key, name: name, kind: child.kind, device: fields)
                changed = true
            }
            emit(.child(known, list: list, position: position, first: firstNamed, changed: changed))
            for entity in entities {
                if let (value, attributes) = read(entity, context: context, childID: known.id, emit) {
                    emit(.reading(value, attributes: attributes, of: entity))
                }
            }
        }
        if named.count > items.count { named.removeLast(named.count - items.count) }
        memo.lists[list] = named
        emit(.listEnds)
    }

    /// The list's items from the first list path present, or `nil` when none is.
    private func items(
        of child: ChildExpansion,
        in context: ValuePath.Context,
        entityID: String,
        endpoint: String,
        _ emit: (Event) -> Void
    ) -> (ChildItems, ValuePath)? {
        for path in child.listPaths {
            if let wildcard = path.trailingWildcard {
                // `items[*]`: the container's elements (or an object's values in key order), as
                // resolveAll would give them, without collecting matches step by step.
                guard let container = path.resolve(in: context, steps: wildcard), !container.isNull else { continue }
                return (Self.items(in: container) ?? .items([]), path)
            }
            if path.hasWildcard {
                let prefix = ValuePath(root: path.root, segments: Array(path.segments.prefix { $0 != .wildcard }), text: path.text)
                guard let container = prefix.resolve(in: context), !container.isNull else { continue }
                let matches = path.resolveAll(in: context)
                return (.items(matches.enumerated().map { ChildItem(value: $1.value, index: $1.index ?? $0, key: $1.key) }), path)
            }
            guard let list = path.resolve(in: context), !list.isNull else { continue }
            guard let items = Self.items(in: list) else {
                emit(.issue(MappingIssue(
                    entityID: entityID,
                    endpoint: endpoint,
                    path: path.text,
                    message: "child list: expected an array or an object, got \(list.kindDescription)"
                )))
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

    /// The API's own id of an item (one part as it is, several joined by `_`), or `nil` when a
    /// part is missing or empty. Its text, made topic-safe, is the child's id.
    /// `context` is the item's, without its child key (which this finds).
    private func childKey(of item: ChildItem, child: ChildExpansion, context: ValuePath.Context) -> JSONValue? {
        if child.idParts.count == 1, case .index = child.idParts[0] {
            // `id: $index`, the usual id of cells: no parts to collect.
            return .number(Double(item.index))
        }
        if child.idParts.count == 1, case .path(let path) = child.idParts[0] {
            // One field (`id: mac`): no parts to collect.
            guard let value = path.resolve(in: context), !value.isNull, !value.text.isEmpty else { return nil }
            return value
        }
        var parts: [JSONValue] = []
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
        return parts.count == 1 ? first : .string(parts.map(\.text).joined(separator: "_"))
    }

    /// A child's name (the item's, or `defaultName`) and device fields.
    private func description(
        of child: ChildExpansion, default defaultName: String, context: ValuePath.Context
    ) -> (name: String, device: [DeviceTemplate.Field: String]) {
        let name: String
        if let namePath = child.namePath, let value = namePath.resolve(in: context), !value.isNull, !value.text.isEmpty {
            name = value.text
        } else {
            name = defaultName
        }
        return (name, child.device.map { deviceFields($0, endpoint: nil, context: context) } ?? [:])
    }
}
