/// One value in the composed configuration tree, with where it is and, for a scalar,
/// its text after environment interpolation.
struct ConfigNode {
    /// The composed YAML node.
    let node: YAMLNode
    /// The key path of this value, such as `sources[1].poll_interval`.
    let path: String
    /// Where the value starts in the file.
    let position: ConfigPosition
    /// The scalar's text after `${…}` interpolation; `nil` for a mapping or a list.
    let text: String?

    /// How the value looks, for "expected …, got …" messages; quotes scalars.
    var shapeDescription: String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar: "'\(text ?? "")'"
        }
    }

    /// How the value looks, without repeating a scalar's text (for secrets).
    var redactedShapeDescription: String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar: "a scalar"
        }
    }

    /// The key path of a child key.
    static func path(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : "\(parent).\(key)"
    }

    /// The key path of a list element.
    static func path(_ parent: String, index: Int) -> String {
        "\(parent)[\(index)]"
    }
}
