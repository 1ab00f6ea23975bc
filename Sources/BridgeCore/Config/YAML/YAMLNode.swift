/// One node of a composed YAML document, with where it starts in the file.
///
/// ``YAMLReader`` composes these; the configuration and mapping readers walk them. Scalars
/// keep their text unresolved: what `12`, `true` or `null` mean is decided by the reader that
/// expects them (a quoted scalar is always text), never by the YAML layer.
enum YAMLNode: Sendable, Equatable {
    /// Text: plain, quoted, or empty (a key or list entry written without a value).
    case scalar(YAMLScalar)
    /// `key: value` pairs in file order.
    case mapping(YAMLMapping)
    /// A list.
    case sequence(YAMLSequence)

    /// Where the node starts: its first character, or its anchor (`&name`) when it has one.
    var position: ConfigPosition {
        switch self {
        case .scalar(let scalar): scalar.position
        case .mapping(let mapping): mapping.position
        case .sequence(let sequence): sequence.position
        }
    }

    /// The scalar, or `nil` for a mapping or a list.
    var scalar: YAMLScalar? {
        if case .scalar(let scalar) = self { return scalar }
        return nil
    }

    /// The same node starting at `position` (where its anchor is written).
    func moved(to position: ConfigPosition) -> YAMLNode {
        switch self {
        case .scalar(var scalar):
            scalar.position = position
            return .scalar(scalar)
        case .mapping(var mapping):
            mapping.position = position
            return .mapping(mapping)
        case .sequence(var sequence):
            sequence.position = position
            return .sequence(sequence)
        }
    }
}

/// A scalar's text after unquoting, escapes and line folding.
struct YAMLScalar: Sendable, Equatable {
    /// How a scalar is written; only "plain or not" changes its meaning.
    enum Style: Sendable, Equatable {
        /// Unquoted (also an empty value): may mean null, a boolean or a number to the reader.
        case plain
        /// `'text'`.
        case singleQuoted
        /// `"text"`.
        case doubleQuoted
    }

    /// The text.
    var string: String
    /// How it was written.
    var style: Style
    /// Where it starts.
    var position: ConfigPosition
}

/// A mapping's pairs in file order; keys are scalars and unique.
struct YAMLMapping: Sendable, Equatable {
    /// One `key: value`.
    struct Pair: Sendable, Equatable {
        /// The key.
        var key: YAMLScalar
        /// The value.
        var value: YAMLNode
    }

    /// The pairs in file order.
    var pairs: [Pair]
    /// Where it starts: its first key, or its `{`.
    var position: ConfigPosition
}

/// A list's elements in file order.
struct YAMLSequence: Sendable, Equatable {
    /// The elements.
    var elements: [YAMLNode]
    /// Where it starts: its first `-`, or its `[`.
    var position: ConfigPosition
}
