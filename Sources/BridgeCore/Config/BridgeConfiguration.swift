#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The whole, validated configuration of one bridge instance.
///
/// Load it with ``ConfigLoader/load(file:environment:)``; every value has been checked, every
/// default applied and every secret file read, so nothing downstream re-validates.
public struct BridgeConfiguration: Sendable, Hashable, Encodable {
    /// The broker connection (`mqtt:`).
    public var mqtt: MQTTSettings
    /// Home Assistant discovery (`homeassistant:`).
    public var homeassistant: HomeAssistantSettings
    /// How device state is published (`publish:`).
    public var publish: PublishSettings
    /// The `/health` and `/metrics` server (`http:`).
    public var http: HTTPSettings
    /// Logging (`log:`).
    public var log: LogSettings
    /// User mapping overlays (`mappings:`).
    public var mappings: MappingSettings
    /// The configured sources, in file order (`sources:`).
    public var sources: [SourceConfiguration]
    /// The file the configuration came from.
    public var file: String

    /// Creates a configuration; every section but `mqtt` has its defaults.
    public init(
        mqtt: MQTTSettings,
        homeassistant: HomeAssistantSettings = HomeAssistantSettings(),
        publish: PublishSettings = PublishSettings(),
        http: HTTPSettings = HTTPSettings(),
        log: LogSettings = LogSettings(),
        mappings: MappingSettings = MappingSettings(),
        sources: [SourceConfiguration] = [],
        file: String
    ) {
        self.mqtt = mqtt
        self.homeassistant = homeassistant
        self.publish = publish
        self.http = http
        self.log = log
        self.mappings = mappings
        self.sources = sources
        self.file = file
    }

    /// The configuration as JSON with every secret shown as `***`, for `bridge/info` and
    /// `api2mqtt check`. Keys are the configuration's own, sorted.
    ///
    /// To embed the configuration in a larger JSON document, encode the value itself:
    /// its `Encodable` conformance is the same redacted form.
    public var redactedJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
