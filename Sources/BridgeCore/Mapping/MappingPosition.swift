/// Where something is written in a mapping file, so lint errors can point at it.
public struct MappingPosition: Sendable, Hashable, CustomStringConvertible {
    /// The mapping file's path, as given to the loader.
    public var file: String
    /// The line, starting at 1; 0 when unknown (a mapping built in code).
    public var line: Int
    /// The column, starting at 1; 0 when unknown.
    public var column: Int
    /// The key path, such as `entities[3].unit`.
    public var keyPath: String

    /// Creates a position.
    public init(file: String, line: Int, column: Int, keyPath: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
    }

    /// A position for a mapping built in code rather than read from a file.
    public static func unknown(_ keyPath: String = "") -> MappingPosition {
        MappingPosition(file: "<code>", line: 0, column: 0, keyPath: keyPath)
    }

    /// A ``ConfigError`` at this position.
    public func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, column: column, keyPath: keyPath, message: message)
    }

    /// `file:line:column: keyPath`.
    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(keyPath)" : "\(file): \(keyPath)"
    }
}
