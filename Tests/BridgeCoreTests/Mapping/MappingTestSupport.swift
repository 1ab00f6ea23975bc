import Testing

@testable import BridgeCore

/// Helpers shared by the mapping tests.
enum MappingTestSupport {
    /// The file name in-memory mapping documents are given in error messages.
    static let file = "test.yaml"

    /// Loads a mapping document, recording the errors as an issue when it fails.
    static func load(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> MappingFile? {
        do {
            return try MappingLoader.load(yaml: yaml, file: file)
        } catch {
            Issue.record("unexpected mapping errors:\n\(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// The load errors of a mapping document, recording an issue when it loads.
    static func loadErrors(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        do {
            _ = try MappingLoader.load(yaml: yaml, file: file)
            Issue.record("expected the mapping to be rejected", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// Loads a document (which must load) and returns its lint errors.
    static func lint(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        guard let mapping = load(yaml, sourceLocation: sourceLocation) else { return [] }
        return MappingLinter.lint(mapping).map(\.description)
    }

    /// Parses JSON text that the test knows is valid.
    static func json(_ text: String) -> JSONValue {
        (try? JSONValue(parsing: text)) ?? .null
    }
}
