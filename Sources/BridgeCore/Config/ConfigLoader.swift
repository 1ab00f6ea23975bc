#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads and validates the configuration file.
///
/// It composes the YAML into a node tree (every node knows its line and column), walks it,
/// and collects every problem before failing, so one run of `api2mqtt check` lists them all:
///
/// ```swift
/// do {
///     let configuration = try ConfigLoader.load(file: "/etc/api2mqtt/api2mqtt.yaml")
/// } catch {
///     print(error)   // one "file:line:column: key.path: message" per line
/// }
/// ```
public enum ConfigLoader {
    /// The top-level sections.
    static let sections = ["mqtt", "homeassistant", "publish", "http", "log", "mappings", "sources"]

    /// Loads the configuration file at `file`.
    ///
    /// - Parameters:
    ///   - file: The path of the YAML file. Relative paths inside it start at its folder.
    ///   - environment: Values for `${NAME}` references; the process environment by default.
    /// - Returns: The validated configuration.
    /// - Throws: ``ConfigErrors`` with every problem found, in file order.
    public static func load(
        file: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> BridgeConfiguration {
        let problem: String
        if let data = FileManager.default.contents(atPath: file) {
            if let yaml = String(data: data, encoding: .utf8) {
                return try load(yaml: yaml, file: file, environment: environment)
            }
            problem = "cannot read the configuration: the file is not UTF-8 text"
        } else {
            problem = "cannot read the configuration: " + (ConfigReader.problem(withPath: file, kind: .file) ?? "unreadable")
        }
        throw ConfigErrors([ConfigError(unpositionedIn: file, message: problem)])
    }

    /// Loads a configuration from YAML text.
    ///
    /// - Parameters:
    ///   - yaml: The document.
    ///   - file: The name errors give the document; relative paths inside it start at its folder.
    ///   - environment: Values for `${NAME}` references; the process environment by default.
    /// - Returns: The validated configuration.
    /// - Throws: ``ConfigErrors`` with every problem found, in file order.
    public static func load(
        yaml: String,
        file: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> BridgeConfiguration {
        let reader = ConfigReader(file: file, environment: environment)
        let root: YAMLNode?
        do {
            root = try YAMLReader.compose(yaml)
        } catch {
            throw ConfigErrors([syntaxError(error, file: file)])
        }
        let start = ConfigPosition.start
        guard let root, !reader.isNull(root) else {
            reader.report("the configuration is empty; it needs at least mqtt.url", at: start, path: "")
            throw ConfigErrors(reader.errors)
        }
        guard let document = reader.node(root, path: ""), let top = reader.section(document) else {
            throw ConfigErrors(reader.errors)
        }
        let configuration = read(top, reader: reader)
        guard let configuration, reader.errors.isEmpty else {
            // A reader that gives up has always reported why; the fallback only guards that promise.
            throw ConfigErrors(reader.errors.isEmpty ? [ConfigError(unpositionedIn: file, message: "invalid configuration")] : reader.errors)
        }
        return configuration
    }

    /// Reads the top-level sections.
    private static func read(_ top: ConfigSection, reader: ConfigReader) -> BridgeConfiguration? {
        reader.rejectUnknownKeys(in: top, allowed: sections)
        var mqtt: MQTTSettings?
        if top.keyPosition("mqtt") == nil {
            reader.requireKey("mqtt", in: top)
        } else if let section = reader.section("mqtt", in: top) {
            mqtt = MQTTSettings.read(section, reader: reader)
        }
        let homeassistant = reader.section("homeassistant", in: top).map { HomeAssistantSettings.read($0, reader: reader) }
        let publish = reader.section("publish", in: top).map { PublishSettings.read($0, reader: reader) }
        let http = reader.section("http", in: top).map { HTTPSettings.read($0, reader: reader) }
        let log = reader.section("log", in: top).map { LogSettings.read($0, reader: reader) }
        let mappings = reader.section("mappings", in: top).map { MappingSettings.read($0, reader: reader) }
        let sources = SourceConfiguration.readAll(top["sources"], reader: reader)
        guard let mqtt else { return nil }
        return BridgeConfiguration(
            mqtt: mqtt,
            homeassistant: homeassistant ?? HomeAssistantSettings(),
            publish: publish ?? PublishSettings(),
            http: http ?? HTTPSettings(),
            log: log ?? LogSettings(),
            mappings: mappings ?? MappingSettings(),
            sources: sources,
            file: reader.file
        )
    }

    /// A YAML reader error as a positioned configuration error (its message never quotes
    /// the file, which could show a secret).
    static func syntaxError(_ error: YAMLError, file: String) -> ConfigError {
        ConfigError(file: file, line: error.position.line, column: error.position.column, keyPath: "", message: error.message)
    }
}
