import Yams

@testable import BridgeCore

/// One text form for a tree composed by our ``YAMLReader`` and one composed by Yams, so the
/// differential tests compare kinds, keys in order, scalar text and style (plain or quoted),
/// and every node's line and column.
enum YAMLTreeDump {
    /// Composes `yaml` with our reader: the dump, or the error as `error@line:column: message`.
    static func ours(_ yaml: String) -> Result<String, YAMLError> {
        do {
            return .success(try YAMLReader.compose(yaml).map(dump) ?? "(none)")
        } catch {
            return .failure(error)
        }
    }

    /// Composes `yaml` with Yams: the dump, or the error's description.
    static func yams(_ yaml: String) -> Result<String, any Error> {
        do {
            return .success(try Yams.compose(yaml: yaml).map(dump) ?? "(none)")
        } catch {
            return .failure(error)
        }
    }

    static func dump(_ node: YAMLNode) -> String {
        switch node {
        case .scalar(let scalar):
            return scalarText(scalar.string, style: "\(scalar.style)", line: scalar.position.line, column: scalar.position.column)
        case .mapping(let mapping):
            let pairs = mapping.pairs.map { dump(.scalar($0.key)) + ": " + dump($0.value) }
            return "{@\(mapping.position.line):\(mapping.position.column) " + pairs.joined(separator: ", ") + "}"
        case .sequence(let sequence):
            let elements = sequence.elements.map(dump)
            return "[@\(sequence.position.line):\(sequence.position.column) " + elements.joined(separator: ", ") + "]"
        }
    }

    static func dump(_ node: Node) -> String {
        let line = node.mark?.line ?? 0
        let column = node.mark?.column ?? 0
        switch node {
        case .scalar(let scalar):
            let style: String
            switch scalar.style {
            case .plain, .any: style = "plain"
            case .singleQuoted: style = "singleQuoted"
            case .doubleQuoted: style = "doubleQuoted"
            case .literal: style = "literal"
            case .folded: style = "folded"
            }
            return scalarText(scalar.string, style: style, line: line, column: column)
        case .mapping(let mapping):
            let pairs = mapping.map { dump($0.key) + ": " + dump($0.value) }
            return "{@\(line):\(column) " + pairs.joined(separator: ", ") + "}"
        case .sequence(let sequence):
            return "[@\(line):\(column) " + sequence.map(dump).joined(separator: ", ") + "]"
        case .alias:
            return "(alias)"
        }
    }

    private static func scalarText(_ text: String, style: String, line: Int, column: Int) -> String {
        "\(style)@\(line):\(column) \(text.debugDescription)"
    }
}
