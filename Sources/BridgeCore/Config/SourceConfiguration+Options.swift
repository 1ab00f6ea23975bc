/// Typed access to ``SourceConfiguration/options``.
///
/// Each accessor returns `nil` when the key is not set or holds another kind of value; the
/// loader has already checked every key against ``SourceType/schema``, so a `nil` for a key
/// with a default means the key does not belong to this type.
extension SourceConfiguration {
    /// A text or choice option, such as `stream` or `remote_start_id_tag`.
    public func string(_ key: String) -> String? {
        if case .string(let value) = options[key] { return value }
        return nil
    }

    /// A whole-number option, such as `requests_per_minute`.
    public func int(_ key: String) -> Int? {
        if case .int(let value) = options[key] { return value }
        return nil
    }

    /// A flag option, such as `track_devices`.
    public func bool(_ key: String) -> Bool? {
        if case .bool(let value) = options[key] { return value }
        return nil
    }

    /// A duration option, such as `poll_interval` or `away_after`.
    public func duration(_ key: String) -> Duration? {
        if case .duration(let value) = options[key] { return value }
        return nil
    }

    /// A secret option by its base name (`password`, `token`, `api_key`), whether it was given
    /// inline or through its `*_file`.
    public func secret(_ key: String) -> Secret? {
        if case .secret(let value) = options[key] { return value }
        return nil
    }

    /// A list option, such as `charge_points`.
    public func strings(_ key: String) -> [String]? {
        if case .strings(let value) = options[key] { return value }
        return nil
    }
}
