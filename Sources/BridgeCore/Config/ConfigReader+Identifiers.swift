/// Names that end up in MQTT: topic prefixes, the client id, source ids.
extension ConfigReader {
    /// A topic prefix (`base_topic`, `discovery_prefix`, `status_topic`): not empty, no `+`,
    /// `#` or NUL (wildcards and terminators), no leading or trailing `/`, not starting with `$`
    /// (reserved for the broker), no control characters.
    func topic(_ value: ConfigNode) -> String? {
        guard let text = nonEmptyString(value) else { return nil }
        let problem: String? =
            if text.contains(where: { $0 == "+" || $0 == "#" }) {
                "must not contain the wildcards '+' or '#', got '\(text)'"
            } else if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                "must not contain control characters"
            } else if text.hasPrefix("/") || text.hasSuffix("/") {
                "must not start or end with '/', got '\(text)'"
            } else if text.hasPrefix("$") {
                "must not start with '$' (reserved for the broker), got '\(text)'"
            } else {
                nil
            }
        if let problem {
            report(problem, at: value.position, path: value.path)
            return nil
        }
        return text
    }

    /// An MQTT client identifier: 1 to 64 characters, no control characters.
    func clientID(_ value: ConfigNode) -> String? {
        guard let text = nonEmptyString(value) else { return nil }
        guard text.count <= 64, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            report("must be 1 to 64 characters without control characters", at: value.position, path: value.path)
            return nil
        }
        return text
    }

    /// A source id: 1 to 64 characters of `a-z`, `0-9`, `_` and `-`, because it becomes a topic
    /// level and part of every Home Assistant `unique_id`.
    func sourceID(_ value: ConfigNode) -> String? {
        guard let text = string(value) else { return nil }
        let allowed = text.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-"
        }
        guard allowed, (1...64).contains(text.count) else {
            report(
                "must be 1 to 64 characters of a-z, 0-9, '_' and '-', got '\(text)'",
                at: value.position,
                path: value.path
            )
            return nil
        }
        return text
    }
}
