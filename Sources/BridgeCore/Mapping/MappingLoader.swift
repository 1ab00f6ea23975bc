#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Loads the mapping files of every source type: the built-in folder (`Mappings/`), then a
/// user overlay (the `mappings.directory` setting, or a source's `mapping:`).
///
/// ```swift
/// let mappings = try MappingLoader.load(builtIn: "Mappings", overlay: settings.mappings.directory)
/// let han = mappings["cozify_han"]
/// ```
///
/// Overlay files name the `source:` they change. An overlay entity or command with an id
/// the built-in file has changes only the keys it writes (field-level merge: `from` replaces
/// all sources, any transform key replaces all entity-level transforms, `call`/`action`
/// replace the target); `enabled: false` removes it; a new id is appended. Defaults (names,
/// units and state classes from ``DeviceClassTable``, validation kinds) are filled after the
/// merge, so they follow the overlay's device class.
public enum MappingLoader {
    /// Loads every `*.yaml` / `*.yml` file of `directory`, then overlays `overlay` (a file or
    /// a folder) on top.
    ///
    /// - Parameters:
    ///   - directory: The built-in mapping folder.
    ///   - overlay: A user mapping file or folder, or `nil`.
    ///   - environment: Values for `${NAME}` references in scalars.
    /// - Returns: The mappings keyed by source type.
    /// - Throws: ``ConfigErrors`` with every structural problem of every file (unknown keys,
    ///   bad paths, unknown transforms, missing keys). Combinations are checked by ``MappingLinter``.
    public static func load(
        builtIn directory: String,
        overlay: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> [String: MappingFile] {
        let result = collect(builtIn: directory, overlay: overlay, environment: environment)
        guard result.errors.isEmpty else { throw ConfigErrors(result.errors) }
        return result.mappings
    }

    /// Loads one mapping document, filling its defaults.
    ///
    /// - Parameters:
    ///   - yaml: The document.
    ///   - file: The name errors give it.
    /// - Throws: ``ConfigErrors`` with every structural problem.
    public static func load(yaml: String, file: String, environment: [String: String] = [:]) throws(ConfigErrors) -> MappingFile {
        let (parsed, parseErrors) = parse(yaml: yaml, file: file, environment: environment)
        guard let parsed, parseErrors.isEmpty else { throw ConfigErrors(parseErrors) }
        let (mapping, errors) = finalize(parsed)
        guard errors.isEmpty else { throw ConfigErrors(errors) }
        return mapping
    }

    /// Overlays the files at `path` (a file or a folder) on one loaded mapping; for a
    /// source's own `mapping:` setting. Every file must name the same `source:`.
    ///
    /// - Throws: ``ConfigErrors`` with every structural problem.
    public static func overlay(
        _ base: MappingFile,
        with path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> MappingFile {
        var errors: [ConfigError] = []
        var merged = base
        for file in yamlFiles(at: path, errors: &errors) {
            let (parsed, parseErrors) = parse(file: file, environment: environment)
            errors += parseErrors
            guard let parsed else { continue }
            guard parsed.source == base.source else {
                errors.append(parsed.position.error("maps source type '\(parsed.source)', but this source is '\(base.source)'"))
                continue
            }
            merged = merge(merged, overlay: parsed)
        }
        let (mapping, finalizeErrors) = finalize(merged)
        errors += finalizeErrors
        guard errors.isEmpty else { throw ConfigErrors(errors) }
        return mapping
    }

    /// Loads everything it can and returns the problems instead of throwing, for
    /// `api2mqtt mappings lint`: mappings with structural errors are left out.
    static func collect(
        builtIn directory: String,
        overlay: String?,
        environment: [String: String]
    ) -> (mappings: [String: MappingFile], errors: [ConfigError]) {
        var errors: [ConfigError] = []
        var mappings: [String: MappingFile] = [:]
        var broken = Set<String>()
        func absorb(_ file: String, asOverlay: Bool) {
            let (parsed, parseErrors) = parse(file: file, environment: environment)
            errors += parseErrors
            guard let parsed else { return }
            if !parseErrors.isEmpty { broken.insert(parsed.source) }
            if let existing = mappings[parsed.source] {
                if asOverlay {
                    mappings[parsed.source] = merge(existing, overlay: parsed)
                } else {
                    errors.append(parsed.position.error("source type '\(parsed.source)' is already mapped by \(existing.file)"))
                }
            } else {
                mappings[parsed.source] = parsed
            }
        }
        for file in yamlFiles(at: directory, errors: &errors, mustBeDirectory: true) {
            absorb(file, asOverlay: false)
        }
        if let overlay {
            for file in yamlFiles(at: overlay, errors: &errors) {
                absorb(file, asOverlay: true)
            }
        }
        var finalized: [String: MappingFile] = [:]
        for (source, mapping) in mappings {
            let (result, finalizeErrors) = finalize(mapping)
            errors += finalizeErrors
            if finalizeErrors.isEmpty, !broken.contains(source) { finalized[source] = result }
        }
        return (finalized, errors)
    }

    /// Reads one file from disk.
    static func parse(file: String, environment: [String: String]) -> (MappingFile?, [ConfigError]) {
        guard let data = FileManager.default.contents(atPath: file) else {
            let problem = ConfigReader.problem(withPath: file, kind: .file) ?? "unreadable"
            return (nil, [ConfigError(unpositionedIn: file, message: "cannot read the mapping file: \(problem)")])
        }
        guard let yaml = String(data: data, encoding: .utf8) else {
            return (nil, [ConfigError(unpositionedIn: file, message: "cannot read the mapping file: the file is not UTF-8 text")])
        }
        return parse(yaml: yaml, file: file, environment: environment)
    }

    /// Reads one document into a mapping holding only what it writes (no defaults).
    ///
    /// - Returns: The mapping (`nil` when `source:` is unusable) and every problem found.
    static func parse(yaml: String, file: String, environment: [String: String]) -> (MappingFile?, [ConfigError]) {
        let reader = ConfigReader(file: file, environment: environment)
        let root: YAMLNode?
        do {
            root = try YAMLReader.compose(yaml)
        } catch {
            return (nil, [syntaxError(error, file: file)])
        }
        let start = ConfigPosition.start
        guard let root, !reader.isNull(root) else {
            reader.report("the mapping file is empty; it needs at least source:", at: start, path: "")
            return (nil, reader.errors)
        }
        guard let document = reader.node(root, path: ""), let top = reader.section(document) else {
            return (nil, reader.errors)
        }
        let mapping = MappingReader(reader: reader).read(top)
        return (mapping, reader.errors)
    }

    /// A YAML syntax error, with a hint for the usual cause in mapping files: a path with
    /// `[ ]` or `*` written unquoted inside `{ … }` or `[ … ]`, where YAML reserves them.
    static func syntaxError(_ error: YAMLError, file: String) -> ConfigError {
        let base = ConfigLoader.syntaxError(error, file: file)
        let text = base.message
        guard text.contains("flow") || text.contains("alias") else { return base }
        return ConfigError(
            file: base.file,
            line: base.line,
            column: base.column,
            keyPath: base.keyPath,
            message: text + #"; inside { … } or [ … ], quote paths that contain [ ] or * (path: "pi[0]")"#
        )
    }

    /// The mapping files at `path`: the file itself, or a folder's `*.yaml` and `*.yml` files
    /// sorted by name (not descending into sub-folders).
    static func yamlFiles(at path: String, errors: inout [ConfigError], mustBeDirectory: Bool = false) -> [String] {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            errors.append(ConfigError(unpositionedIn: path, message: "cannot read mappings: '\(path)' does not exist"))
            return []
        }
        guard isDirectory else {
            if mustBeDirectory {
                errors.append(ConfigError(unpositionedIn: path, message: "cannot read mappings: '\(path)' is not a directory"))
                return []
            }
            return [path]
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            errors.append(ConfigError(unpositionedIn: path, message: "cannot read mappings: '\(path)' is not readable"))
            return []
        }
        return names
            .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
            .sorted()
            .map { FilePath.join(path, $0) }
    }
}
