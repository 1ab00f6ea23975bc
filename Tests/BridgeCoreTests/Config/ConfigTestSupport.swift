import Foundation
import Testing

@testable import BridgeCore

/// Helpers shared by the configuration tests.
enum ConfigTestSupport {
    /// The file name the in-memory documents are given in error messages.
    static let file = "test.yaml"

    /// Loads `yaml` and returns the error lines, or records an issue when it loads.
    static func errors(
        _ yaml: String,
        environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [String] {
        do {
            _ = try ConfigLoader.load(yaml: yaml, file: file, environment: environment)
            Issue.record("expected the configuration to be rejected", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// Loads `yaml`, returning `nil` and recording the errors as an issue when it fails.
    static func load(
        _ yaml: String,
        environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> BridgeConfiguration? {
        do {
            return try ConfigLoader.load(yaml: yaml, file: file, environment: environment)
        } catch {
            Issue.record("unexpected configuration errors:\n\(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

/// A folder under the system temporary directory that is removed when the test body returns.
struct ConfigScratchDirectory {
    /// The folder's path.
    let path: String

    /// Runs `body` with a fresh folder and removes it afterwards, on every exit path.
    static func with<T>(_ body: (ConfigScratchDirectory) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("api2mqtt-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(ConfigScratchDirectory(path: url.path))
    }

    /// Writes `contents` to `name` in the folder and returns the file's path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let filePath = (path as NSString).appendingPathComponent(name)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: filePath))
        return filePath
    }
}
