#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reading the `sources:` list.
extension SourceConfiguration {
    /// The keys every source accepts, whatever its type.
    static let commonKeys = [
        "id", "type", "name", "url", "enabled", "timeout", "ca_file", "insecure_tls", "read_only",
        "accept_retained_commands", "mapping",
    ]

    /// Reads every entry of `sources:`, reporting every problem, including a repeated id (at the repeat).
    ///
    /// - Parameter value: The `sources` value, or `nil` when the key is absent (no sources).
    static func readAll(_ value: ConfigNode?, reader: ConfigReader) -> [SourceConfiguration] {
        guard let value, let elements = reader.elements(of: value) else { return [] }
        var sources: [SourceConfiguration] = []
        var firstUse: [String: ConfigPosition] = [:]
        for element in elements {
            guard let section = reader.section(element), let source = read(section, reader: reader) else { continue }
            if let first = firstUse[source.id] {
                let position = section["id"]?.position ?? section.position
                reader.report(
                    "duplicate source id '\(source.id)' (first used at line \(first.line))",
                    at: position,
                    path: section.path("id")
                )
                continue
            }
            firstUse[source.id] = section["id"]?.position ?? section.position
            sources.append(source)
        }
        return sources
    }

    /// Reads one entry of `sources:`.
    ///
    /// - Returns: The source, or `nil` when its id, type or url is unusable (reported).
    static func read(_ section: ConfigSection, reader: ConfigReader) -> SourceConfiguration? {
        reader.requireKey("id", in: section)
        reader.requireKey("type", in: section)
        let id = section["id"].flatMap(reader.sourceID)
        let type = section["type"].flatMap { readType($0, reader: reader) }
        guard let type else {
            var seen = Set<String>()
            let everyKey = (commonKeys + SourceType.allCases.flatMap(\.schema.keyNames)).filter { seen.insert($0).inserted }
            reader.rejectUnknownKeys(in: section, allowed: everyKey)
            return nil
        }
        let schema = type.schema
        reader.rejectUnknownKeys(in: section, allowed: commonKeys + schema.keyNames, subject: "for source type '\(type)'")
        var source = SourceConfiguration(id: id ?? "", type: type)
        source.name = section["name"].flatMap(reader.nonEmptyString) ?? source.id
        source.url = readURL(section, schema: schema, reader: reader)
        if let value = section["enabled"], let enabled = reader.bool(value) { source.enabled = enabled }
        if let value = section["timeout"], let timeout = reader.duration(value, in: timeoutRange) { source.timeout = timeout }
        source.caFile = section["ca_file"].flatMap { reader.existingPath($0, kind: .file) }
        if let value = section["insecure_tls"], let flag = reader.bool(value) { source.insecureTLS = flag }
        if let value = section["read_only"], let flag = reader.bool(value) { source.readOnly = flag }
        if let value = section["accept_retained_commands"], let flag = reader.bool(value) {
            source.acceptRetainedCommands = flag
        }
        source.mapping = section["mapping"].flatMap { reader.existingPath($0, kind: .fileOrDirectory) }
        source.options = readOptions(section, schema: schema, reader: reader)
        checkCredentials(section, schema: schema, reader: reader)
        guard id != nil, source.url != nil else { return nil }
        return source
    }

    /// Reads `type`.
    private static func readType(_ value: ConfigNode, reader: ConfigReader) -> SourceType? {
        guard let text = reader.string(value) else { return nil }
        guard let type = SourceType(rawValue: text) else {
            let known = SourceType.allCases.map(\.rawValue).joined(separator: ", ")
            reader.report("unknown source type '\(text)' (known: \(known))", at: value.position, path: value.path)
            return nil
        }
        return type
    }

    /// Reads `url`, or takes the type's default; reports a missing `url` where there is none.
    private static func readURL(_ section: ConfigSection, schema: SourceSchema, reader: ConfigReader) -> URL? {
        guard let value = section["url"] else {
            if schema.defaultURL == nil { reader.requireKey("url", in: section) }
            return schema.defaultURL.flatMap(URL.init(string:))
        }
        guard let text = reader.nonEmptyString(value) else { return nil }
        let components = URLComponents(string: text)
        let problem: String? =
            if let scheme = components?.scheme, !["http", "https"].contains(scheme.lowercased()) {
                "unsupported scheme '\(scheme)' (use http:// or https://)"
            } else if components?.user != nil || components?.password != nil {
                "must not contain credentials; use the source's username and password keys"
            } else if components?.scheme == nil || (components?.host ?? "").isEmpty {
                "expected an http:// or https:// URL with a host, like http://192.168.1.50"
            } else {
                nil
            }
        guard problem == nil, let url = URL(string: text) else {
            reader.report(problem ?? "expected an http:// or https:// URL with a host", at: value.position, path: value.path)
            return nil
        }
        return url
    }
}
