/// What a source type accepts beyond the keys every source has: its own keys, whether `url`
/// has a default, and which credentials it needs.
public struct SourceSchema: Sendable {
    /// The type-specific keys.
    public let keys: [SourceKey]
    /// The `url` used when none is given (a public cloud endpoint); `nil` makes `url` required.
    public let defaultURL: String?
    /// The ways to authenticate, each a set of keys that go together, such as
    /// `[["username", "password"], ["token"]]`. At most one set may be given, and a set is
    /// given whole or not at all.
    public let credentials: [[String]]
    /// Whether one of ``credentials`` must be given.
    public let credentialsRequired: Bool

    /// Describes a source type.
    public init(keys: [SourceKey], defaultURL: String? = nil, credentials: [[String]] = [], credentialsRequired: Bool = false) {
        self.keys = keys
        self.defaultURL = defaultURL
        self.credentials = credentials
        self.credentialsRequired = credentialsRequired
    }

    /// Every spelling of every type-specific key, in table order.
    public var keyNames: [String] {
        keys.flatMap(\.spellings)
    }

    /// The key named `name`, if the type has one.
    public func key(named name: String) -> SourceKey? {
        keys.first { $0.name == name }
    }
}
