/// Reading a source's type-specific keys and checking its credentials against its schema.
extension SourceConfiguration {
    /// Reads every key of `schema` from `section`, applying defaults.
    static func readOptions(_ section: ConfigSection, schema: SourceSchema, reader: ConfigReader) -> [String: ConfigValue] {
        var options: [String: ConfigValue] = [:]
        for key in schema.keys {
            if let value = readOption(key, from: section, reader: reader) {
                options[key.name] = value
            } else if let defaultValue = key.defaultValue {
                options[key.name] = defaultValue
            }
        }
        return options
    }

    /// Reads one type-specific key, or `nil` when it is not given or unusable (reported).
    private static func readOption(_ key: SourceKey, from section: ConfigSection, reader: ConfigReader) -> ConfigValue? {
        if case .secret = key.kind {
            return reader.secret(key.name, in: section).map(ConfigValue.secret)
        }
        guard let value = section[key.name] else { return nil }
        switch key.kind {
        case .string: return reader.nonEmptyString(value).map(ConfigValue.string)
        case .choice(let choices): return reader.choice(value, among: choices).map(ConfigValue.string)
        case .bool: return reader.bool(value).map(ConfigValue.bool)
        case .int(let range): return reader.int(value, in: range).map(ConfigValue.int)
        case .duration(let range): return reader.duration(value, in: range).map(ConfigValue.duration)
        case .strings: return reader.strings(value).map(ConfigValue.strings)
        case .secret: return nil
        }
    }

    /// Checks that at most one credential set is given, that it is given whole, and that one
    /// is given when the type needs it. Problems point at the source entry.
    static func checkCredentials(_ section: ConfigSection, schema: SourceSchema, reader: ConfigReader) {
        guard !schema.credentials.isEmpty else { return }
        func isGiven(_ name: String) -> Bool {
            schema.key(named: name)?.spellings.contains(where: section.isGiven) ?? section.isGiven(name)
        }
        func spelled(_ name: String) -> String {
            schema.key(named: name)?.spellings.joined(separator: "/") ?? name
        }
        let choices = schema.credentials.map { $0.map(spelled).joined(separator: " and ") }.joined(separator: ", or ")
        var complete = 0
        for set in schema.credentials {
            let given = set.filter(isGiven)
            if given.count == set.count {
                complete += 1
            } else if !given.isEmpty {
                for missing in set where !isGiven(missing) {
                    reader.report(
                        "missing key '\(spelled(missing))', needed with '\(given.joined(separator: "', '"))'",
                        at: section.position,
                        path: section.path
                    )
                }
            }
        }
        if complete > 1 {
            reader.report("conflicting credentials: give \(choices), not both", at: section.position, path: section.path)
        } else if complete == 0, schema.credentialsRequired, !schema.credentials.joined().contains(where: isGiven) {
            reader.report("missing credentials: give \(choices)", at: section.position, path: section.path)
        }
    }
}
