/// Home Assistant MQTT discovery (the `homeassistant:` section).
public struct HomeAssistantSettings: Sendable, Hashable, Encodable {
    /// Whether discovery payloads are published (`enabled`, default true).
    public var enabled: Bool
    /// The first topic level of discovery topics (`discovery_prefix`, default `homeassistant`).
    public var discoveryPrefix: String
    /// Where Home Assistant announces `online` after it starts (`status_topic`, default
    /// `<discovery_prefix>/status`); the bridge then republishes discovery and state.
    public var statusTopic: String

    /// The `discovery_prefix` used when the file names none.
    public static let defaultDiscoveryPrefix = "homeassistant"

    /// Creates the settings; `statusTopic` defaults to `<discoveryPrefix>/status`.
    public init(
        enabled: Bool = true,
        discoveryPrefix: String = HomeAssistantSettings.defaultDiscoveryPrefix,
        statusTopic: String? = nil
    ) {
        self.enabled = enabled
        self.discoveryPrefix = discoveryPrefix
        self.statusTopic = statusTopic ?? "\(discoveryPrefix)/status"
    }

    enum CodingKeys: String, CodingKey {
        case enabled
        case discoveryPrefix = "discovery_prefix"
        case statusTopic = "status_topic"
    }

    /// Every key the section accepts.
    static let keys = ["enabled", "discovery_prefix", "status_topic"]

    /// Reads the section, reporting every problem.
    static func read(_ section: ConfigSection, reader: ConfigReader) -> HomeAssistantSettings {
        reader.rejectUnknownKeys(in: section, allowed: keys)
        let enabled = section["enabled"].flatMap(reader.bool) ?? true
        let prefix = section["discovery_prefix"].flatMap(reader.topic) ?? defaultDiscoveryPrefix
        let statusTopic = section["status_topic"].flatMap(reader.topic)
        return HomeAssistantSettings(enabled: enabled, discoveryPrefix: prefix, statusTopic: statusTopic)
    }
}
