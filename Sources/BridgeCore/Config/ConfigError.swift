/// One problem found in the configuration file, pointing at where it is.
///
/// Renders as one line, the way compilers do, so editors can jump to it:
///
/// ```
/// /etc/api2mqtt.yaml:14:5: sources[1].poll_interval: expected a duration like 10s, got 'abc'
/// ```
///
/// The message never contains a secret: not a password, not a token, not the content
/// of a `*_file`.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration file's path, as given to the loader.
    public let file: String
    /// The line, starting at 1; 0 when the problem has no position (the file cannot be read).
    public let line: Int
    /// The column, starting at 1; 0 when the problem has no position.
    public let column: Int
    /// Where in the document the problem is, such as `mqtt.tls.ca_file` or `sources[1].url`;
    /// empty for the document as a whole.
    public let keyPath: String
    /// What is wrong, and where possible how to fix it.
    public let message: String

    /// Creates an error at a position in a file.
    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    /// Creates an error about the file as a whole, with no position (it cannot be read).
    public init(unpositionedIn file: String, message: String) {
        self.init(file: file, line: 0, column: 0, keyPath: "", message: message)
    }

    /// `<file>:<line>:<column>: <keyPath>: <message>`; the position and key path are left out
    /// when there are none.
    public var description: String {
        var parts = [file]
        if line > 0 {
            parts.append("\(line)")
            parts.append("\(column)")
        }
        let location = parts.joined(separator: ":")
        return keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
    }
}

/// Every problem found in a configuration file, in file order.
///
/// The loader collects all of them before failing, so one run of `api2mqtt check`
/// shows everything to fix; ``description`` is one ``ConfigError`` per line.
public struct ConfigErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, sorted by file, line and column; never empty.
    public let errors: [ConfigError]

    /// Wraps problems, sorting them into file order (stable for problems at one position).
    public init(_ errors: [ConfigError]) {
        self.errors = errors.enumerated()
            .sorted { lhs, rhs in
                (lhs.element.file, lhs.element.line, lhs.element.column, lhs.offset)
                    < (rhs.element.file, rhs.element.line, rhs.element.column, rhs.offset)
            }
            .map(\.element)
    }

    /// One error per line.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
