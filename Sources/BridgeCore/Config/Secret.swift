/// A configuration value that must never be printed: a password, a token, an API key.
///
/// Its `description`, `debugDescription` and JSON encoding are all `***`, so a
/// `Secret` can be interpolated into a log line, an error or `bridge/info` without
/// leaking. Read ``revealed`` only at the one place that hands the value to a
/// broker or an API.
///
/// ```swift
/// let password = Secret("hunter2")
/// print(password)              // ***
/// client.login(password.revealed)
/// ```
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, Encodable {
    /// The text every rendering of a secret shows instead of its value.
    public static let mask = "***"

    /// The secret value itself. Use it only where it leaves the process (a login, a header).
    public let revealed: String

    /// Wraps a secret value.
    public init(_ value: String) {
        self.revealed = value
    }

    /// Always `***`.
    public var description: String { Self.mask }

    /// Always `***`.
    public var debugDescription: String { Self.mask }

    /// Encodes as the string `***`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Self.mask)
    }
}

extension Secret: CustomReflectable {
    /// Hides the value from `dump()` and mirrors, which otherwise print stored properties.
    public var customMirror: Mirror {
        Mirror(self, children: [], displayStyle: .struct)
    }
}
