#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One configured source: an API to read and, unless read-only, to command (an entry of `sources:`).
///
/// The keys every source has are properties; the keys of its ``type`` (from
/// ``SourceType/schema``) are in ``options``, already validated, with their defaults filled in.
public struct SourceConfiguration: Sendable, Hashable, Encodable {
    /// Topic-safe, unique id (`id`): the source's device id and first topic level under the base topic.
    public var id: String
    /// Which API this is (`type`).
    public var type: SourceType
    /// The name shown in Home Assistant (`name`, default the id).
    public var name: String
    /// The API's base URL (`url`, http or https); required except where the type has a default.
    public var url: URL?
    /// Whether the source runs (`enabled`, default true).
    public var enabled: Bool
    /// How long one HTTP request may take (`timeout`, default 10s, 100ms…5m).
    public var timeout: Duration
    /// A PEM CA file to trust for this source's HTTPS (`ca_file`), for devices with private certificates.
    public var caFile: String?
    /// Skips certificate verification for this source (`insecure_tls`, default false). Testing only.
    public var insecureTLS: Bool
    /// Accepts no commands (`read_only`, default false): no set topics are subscribed.
    public var readOnly: Bool
    /// Acts on commands that arrive retained (`accept_retained_commands`, default false), which
    /// otherwise are ignored so a retained `restart` does not fire again at every reconnect.
    public var acceptRetainedCommands: Bool
    /// A mapping file or folder overlaying the built-in mapping of the type (`mapping`).
    public var mapping: String?
    /// The type-specific keys by name, validated, with defaults applied; secrets are ``ConfigValue/secret(_:)``.
    public var options: [String: ConfigValue]

    /// The `timeout` used when the file names none.
    public static let defaultTimeout: Duration = .seconds(10)
    /// Allowed `timeout` values.
    public static let timeoutRange: ClosedRange<Duration> = .milliseconds(100) ... .seconds(300)

    /// Creates a source configuration; `name` defaults to `id`.
    public init(
        id: String,
        type: SourceType,
        name: String? = nil,
        url: URL? = nil,
        enabled: Bool = true,
        timeout: Duration = SourceConfiguration.defaultTimeout,
        caFile: String? = nil,
        insecureTLS: Bool = false,
        readOnly: Bool = false,
        acceptRetainedCommands: Bool = false,
        mapping: String? = nil,
        options: [String: ConfigValue] = [:]
    ) {
        self.id = id
        self.type = type
        self.name = name ?? id
        self.url = url
        self.enabled = enabled
        self.timeout = timeout
        self.caFile = caFile
        self.insecureTLS = insecureTLS
        self.readOnly = readOnly
        self.acceptRetainedCommands = acceptRetainedCommands
        self.mapping = mapping
        self.options = options
    }

    enum CodingKeys: String, CodingKey {
        case id, type, name, url, enabled, timeout, mapping, options
        case caFile = "ca_file"
        case insecureTLS = "insecure_tls"
        case readOnly = "read_only"
        case acceptRetainedCommands = "accept_retained_commands"
    }

    /// Encodes with the configuration keys; durations as `10s`, secrets in ``options`` as `***`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(url?.absoluteString, forKey: .url)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(timeout.configDescription, forKey: .timeout)
        try container.encodeIfPresent(caFile, forKey: .caFile)
        try container.encode(insecureTLS, forKey: .insecureTLS)
        try container.encode(readOnly, forKey: .readOnly)
        try container.encode(acceptRetainedCommands, forKey: .acceptRetainedCommands)
        try container.encodeIfPresent(mapping, forKey: .mapping)
        try container.encode(options, forKey: .options)
    }
}
