/// A validated value of a source's type-specific key (`poll_interval`, `stream`, `password`, …).
///
/// The loader has already checked its type and range against ``SourceType/keys``, so
/// adapters read it through ``SourceConfiguration``'s accessors without re-validating.
public enum ConfigValue: Sendable, Hashable, Encodable, CustomStringConvertible {
    /// Free text, or one of a fixed set of choices (`stream: sse`).
    case string(String)
    /// A whole number (`requests_per_minute`).
    case int(Int)
    /// A flag (`track_devices`).
    case bool(Bool)
    /// A length of time (`poll_interval`, `away_after`).
    case duration(Duration)
    /// A password, token or API key, given inline or read from its `*_file`.
    case secret(Secret)
    /// A list of names (`charge_points`).
    case strings([String])

    /// The value as written in a configuration file; secrets show as `***`.
    public var description: String {
        switch self {
        case .string(let value): value
        case .int(let value): "\(value)"
        case .bool(let value): "\(value)"
        case .duration(let value): value.configDescription
        case .secret(let value): value.description
        case .strings(let values): "[" + values.joined(separator: ", ") + "]"
        }
    }

    /// Encodes the plain JSON value: a string, number, boolean or array; durations as `10s`,
    /// secrets as `***`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .duration(let value): try container.encode(value.configDescription)
        case .secret(let value): try container.encode(value)
        case .strings(let values): try container.encode(values)
        }
    }
}
