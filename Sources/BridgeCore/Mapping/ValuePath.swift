/// Where a value is inside a JSON document, written the way mapping files write it.
///
/// | written | means |
/// |---|---|
/// | `battery.voltage_mv` | object keys, one after another |
/// | `pi[0]`, `cells[-1]`, `pi.0` | an array element; negative counts from the end |
/// | `connectors[connector_id=2].status` | the first array element whose `connector_id` is 2 (compared as text) |
/// | `connectors[connector_id=$child]` | … whose `connector_id` is the current child's id |
/// | `cells[*]`, `cells[*].voltage_mv` | every element (used by child expansion); an object's values, by key |
/// | `battery.cell_balancing[$index]` | the element at the current child's position |
/// | `["odd.key"]`, `['x y']` | a key holding characters a plain key cannot |
/// | `@` | the current value itself (a child's list item) |
/// | `$.battery.soc` | from the document root, even inside a child entity |
///
/// Plain keys are letters, digits, `_`, `-`, `:`, `@`, `#`, `%` and non-ASCII letters.
///
/// YAML reserves `[ ] { } , *` inside flow collections: write `from: { path: "pi[0]" }`
/// (or `path: pi.0`), or use block style, where `path: pi[0]` needs no quotes.
public struct ValuePath: Sendable, Hashable, CustomStringConvertible {
    /// Where resolution starts.
    public enum Root: Sendable, Hashable {
        /// The value being looked at: the document, or the list item inside a child entity.
        case context
        /// The whole document (`$`), also inside a child entity.
        case document
    }

    /// One step of a path.
    public enum Segment: Sendable, Hashable {
        /// An object member.
        case key(String)
        /// An array element; negative counts from the end.
        case index(Int)
        /// Every element of an array, or every value of an object in key order.
        case wildcard
        /// The first array element that is an object whose `field` equals `value` as text;
        /// `value == nil` means "equals the current child's id" (`$child`).
        case match(field: String, value: String?)
        /// The element at the current child's position (`[$index]`).
        case childIndex
    }

    /// Where resolution starts.
    public let root: Root
    /// The steps, in order.
    public let segments: [Segment]
    /// The path as written in the mapping file.
    public let text: String

    /// Whether the path contains `[*]`, so it can address several values.
    public let hasWildcard: Bool
    /// The key when the path is one key of the current value (`voltage_mv`), the most common
    /// path, resolved without walking segments.
    private let onlyKey: String?

    /// Creates a path from its parts; `text` is what error messages show.
    public init(root: Root = .context, segments: [Segment], text: String) {
        self.root = root
        self.segments = segments
        self.text = text
        self.hasWildcard = segments.contains(.wildcard)
        if root == .context, segments.count == 1, case .key(let key) = segments[0] { onlyKey = key } else { onlyKey = nil }
    }

    /// Parses a path.
    ///
    /// - Throws: ``ValuePathError`` naming the first problem and where it is.
    public init(parsing text: String) throws(ValuePathError) {
        var parser = ValuePathParser(text)
        let (root, segments) = try parser.parse()
        self.init(root: root, segments: segments, text: text)
    }

    /// Whether the path needs a child's id or position (`$child`, `[$index]`).
    public var usesChild: Bool {
        segments.contains { segment in
            switch segment {
            case .childIndex, .match(_, nil): true
            default: false
            }
        }
    }

    /// The path as written.
    public var description: String { text }

    /// What a path is resolved against.
    public struct Context: Sendable {
        /// The whole document (`$`).
        public var document: JSONValue
        /// The current value (`@`): the list item inside a child entity, else the document.
        public var current: JSONValue
        /// The current child's position in its list, for `[$index]`.
        public var childIndex: Int?
        /// The current child's id as text, for `[field=$child]`.
        public var childKey: String?

        /// A context for a document, outside any child.
        public init(document: JSONValue) {
            self.document = document
            self.current = document
        }

        /// A context for one list item of a child expansion.
        public init(document: JSONValue, item: JSONValue, index: Int?, childKey: String?) {
            self.document = document
            self.current = item
            self.childIndex = index
            self.childKey = childKey
        }
    }

    /// The value at this path in `value`, or `nil` when a step is missing.
    ///
    /// A path with `[*]` gives an array of every value found (possibly empty).
    public func resolve(in value: JSONValue) -> JSONValue? {
        resolve(in: Context(document: value))
    }

    /// The value at this path in a context, or `nil` when a step is missing.
    ///
    /// A path with `[*]` gives an array of every value found (possibly empty).
    @inline(__always)
    public func resolve(in context: Context) -> JSONValue? {
        // Inlined, so that a caller reading a path from an array (an entity's sources) looks at
        // its key there instead of copying the whole path out for the call.
        if let onlyKey, case .object(let members) = context.current { return members[onlyKey] }
        return resolveSegments(in: context)
    }

    /// ``resolve(in:)`` for a path that is not one key of the current value.
    private func resolveSegments(in context: Context) -> JSONValue? {
        if hasWildcard { return .array(resolveAll(in: context).map(\.value)) }
        // Without `[*]` a path addresses at most one value.
        var current = root == .document ? context.document : context.current
        for segment in segments {
            guard let next = Self.single(segment, from: current, context: context) else { return nil }
            current = next
        }
        return current
    }

    /// The value the first `[*]` reads from (the path up to it resolved, the whole path when
    /// it has none), or `nil` when a step is missing.
    func wildcardContainer(in context: Context) -> JSONValue? {
        var current = root == .document ? context.document : context.current
        for segment in segments {
            if case .wildcard = segment { break }
            guard let next = Self.single(segment, from: current, context: context) else { return nil }
            current = next
        }
        return current
    }

    /// One step that is not `[*]`; the same rules as ``step(_:from:context:)``.
    private static func single(_ segment: Segment, from value: JSONValue, context: Context) -> JSONValue? {
        switch segment {
        case .key(let key):
            if case .array = value, let index = Int(key) { return value[index] }
            return value[key]
        case .index(let index):
            guard case .array(let elements) = value else { return nil }
            let position = index < 0 ? elements.count + index : index
            return value[position]
        case .childIndex:
            guard let index = context.childIndex else { return nil }
            return value[index]
        case .wildcard:
            return nil
        case .match(let field, let expected):
            guard case .array(let elements) = value, let wanted = expected ?? context.childKey else { return nil }
            return elements.first { element in
                guard let candidate = element[field] else { return false }
                return equalAsText(candidate, wanted)
            }
        }
    }

    /// Every value this path addresses, each with the array position or object key that the
    /// last `[*]` took (child expansion uses them as `$index` and `$key`).
    public func resolveAll(in context: Context) -> [Match] {
        let start = root == .document ? context.document : context.current
        var current = [Match(value: start, index: nil, key: nil)]
        for segment in segments {
            var next: [Match] = []
            for match in current {
                next += step(segment, from: match, context: context)
            }
            current = next
            if current.isEmpty { break }
        }
        return current
    }

    /// One value found by ``resolveAll(in:)``.
    public struct Match: Sendable, Hashable {
        /// The value.
        public var value: JSONValue
        /// The array position the last `[*]` took, if it went through an array.
        public var index: Int?
        /// The object key the last `[*]` took, if it went through an object.
        public var key: String?
    }

    private func step(_ segment: Segment, from match: Match, context: Context) -> [Match] {
        func carry(_ value: JSONValue?) -> [Match] {
            value.map { [Match(value: $0, index: match.index, key: match.key)] } ?? []
        }
        switch segment {
        case .wildcard:
            switch match.value {
            case .array(let elements):
                return elements.enumerated().map { Match(value: $1, index: $0, key: nil) }
            case .object(let members):
                return members.keys.sorted().enumerated().compactMap { position, key in
                    members[key].map { Match(value: $0, index: position, key: key) }
                }
            default:
                return []
            }
        default:
            // `pi.0` reads like `pi[0]` on an array, so flow-style YAML needs no quotes.
            return carry(Self.single(segment, from: match.value, context: context))
        }
    }

    /// Whether a document value equals a value written in a path: as text, or as numbers
    /// when both are numeric (`2` matches `2.0`).
    static func equalAsText(_ value: JSONValue, _ written: String) -> Bool {
        if value.text == written { return true }
        if case .number(let number) = value, let other = Double(written) { return number == other }
        return false
    }
}

/// A path in a mapping file that cannot be parsed.
public struct ValuePathError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path as written.
    public let path: String
    /// The character position of the problem, starting at 1.
    public let position: Int
    /// What is wrong.
    public let reason: String

    /// Creates an error.
    public init(path: String, position: Int, reason: String) {
        self.path = path
        self.position = position
        self.reason = reason
    }

    /// `invalid path 'pi[0': expected ']' at character 5`.
    public var description: String {
        "invalid path '\(path)': \(reason) at character \(position)"
    }
}
