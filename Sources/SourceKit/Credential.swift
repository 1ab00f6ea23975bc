/// A secret a source authenticates with: a password, a token, an API key, a session cookie.
///
/// Every rendering of a credential — `description`, `debugDescription`, `dump()` and string
/// interpolation into a log line or an error — is `***`. Read ``revealed`` only where the value
/// leaves the process (an `Authorization` header, a login body).
///
/// ```swift
/// let password = Credential("hunter2")
/// print("logging in with \(password)")   // logging in with ***
/// ```
public struct Credential: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The text shown wherever a credential is rendered.
    public static let mask = "***"

    /// The secret value itself. Use it only where it is sent to the API.
    public let revealed: String

    /// Wraps a secret value.
    public init(_ value: String) {
        self.revealed = value
    }

    /// Whether the secret is the empty string (a misconfiguration, usually).
    public var isEmpty: Bool { revealed.isEmpty }

    /// Always `***`.
    public var description: String { Self.mask }

    /// Always `***`.
    public var debugDescription: String { Self.mask }
}

extension Credential: CustomReflectable {
    /// Hides the value from `dump()` and mirrors, which otherwise print stored properties.
    public var customMirror: Mirror {
        Mirror(self, children: [], displayStyle: .struct)
    }
}

extension String {
    /// This string with every occurrence of the given secrets replaced by `***`.
    ///
    /// Used on anything a server sent back before it reaches an error or a log line, because
    /// some servers echo the submitted credentials in their error bodies.
    func redacting(_ secrets: [Credential]) -> String {
        var result = self
        for secret in secrets where !secret.isEmpty {
            result = result.replacing(secret.revealed, with: Credential.mask)
        }
        return result
    }
}
