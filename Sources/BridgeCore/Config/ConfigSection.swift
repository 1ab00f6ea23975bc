/// A mapping in the configuration (`mqtt:`, `mqtt.tls:`, one entry of `sources:`), with its
/// keys looked up by name and every scalar already interpolated.
///
/// A key whose value is a plain `null`, `~` or nothing (including a `${VAR:-}` that came out
/// empty) counts as not given, so optional keys can be switched off from the environment.
struct ConfigSection {
    /// What a key holds after interpolation.
    enum Entry {
        /// A value to read.
        case value(ConfigNode)
        /// The key is written but its value is null: treated as not given.
        case null
        /// The value could not be interpolated; the error is already reported.
        case failed
    }

    /// The key path of the mapping itself (`mqtt.tls`, `sources[0]`); empty at the top level.
    let path: String
    /// Where the mapping starts: missing-key errors point here.
    let position: ConfigPosition
    /// The keys in file order, with where each key is written.
    let keys: [(name: String, position: ConfigPosition)]
    /// The values by key.
    private let entries: [String: Entry]

    /// Creates a section from a composed mapping; `reader` interpolates its scalars.
    init(mapping: YAMLMapping, path: String, position: ConfigPosition, reader: ConfigReader) {
        var keys: [(name: String, position: ConfigPosition)] = []
        var entries: [String: Entry] = [:]
        for pair in mapping.pairs {
            let name = pair.key.string
            keys.append((name, pair.key.position))
            let childPath = ConfigNode.path(path, name)
            if reader.isNull(pair.value) {
                entries[name] = .null
            } else if let child = reader.node(pair.value, path: childPath) {
                entries[name] = .value(child)
            } else {
                entries[name] = .failed
            }
        }
        self.path = path
        self.position = position
        self.keys = keys
        self.entries = entries
    }

    /// A section for a mapping that is not in the file, so its keys all take their defaults.
    init(emptyAt position: ConfigPosition, path: String) {
        self.path = path
        self.position = position
        self.keys = []
        self.entries = [:]
    }

    /// The key's value, or `nil` when the key is absent, null, or failed to interpolate.
    subscript(key: String) -> ConfigNode? {
        if case .value(let node) = entries[key] { return node }
        return nil
    }

    /// Whether the key is written with a non-null value (even one that failed to interpolate).
    func isGiven(_ key: String) -> Bool {
        switch entries[key] {
        case .value, .failed: true
        case .null, nil: false
        }
    }

    /// Where a key is written, if it is.
    func keyPosition(_ key: String) -> ConfigPosition? {
        keys.first { $0.name == key }?.position
    }

    /// The key path of one of this section's keys.
    func path(_ key: String) -> String {
        ConfigNode.path(path, key)
    }
}
