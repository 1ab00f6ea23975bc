/// One type-specific key a source type accepts, with its type, range and default.
///
/// The table of these lives in `SourceType+Keys.swift`; the loader validates against it and
/// stores the result in ``SourceConfiguration/options``.
public struct SourceKey: Sendable {
    /// What a key holds and which values are allowed.
    public enum Kind: Sendable {
        /// Free text.
        case string
        /// One of a fixed set of words.
        case choice([String])
        /// `true` or `false`.
        case bool
        /// A whole number in a range.
        case int(ClosedRange<Int>)
        /// A duration in a range.
        case duration(ClosedRange<Duration>)
        /// A secret given inline under the key's name or read from `<name>_file`.
        case secret
        /// A list of names.
        case strings
    }

    /// The key as written in the file (`poll_interval`); a secret also accepts `<name>_file`.
    public let name: String
    /// What the key holds.
    public let kind: Kind
    /// The value used when the key is not given; `nil` leaves it out of the options.
    public let defaultValue: ConfigValue?

    /// Describes a key.
    public init(_ name: String, _ kind: Kind, default defaultValue: ConfigValue? = nil) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
    }

    /// The names the key may be written as: the name, and `<name>_file` for a secret.
    public var spellings: [String] {
        if case .secret = kind { return [name, name + "_file"] }
        return [name]
    }
}
