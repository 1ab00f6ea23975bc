/// How device state is published (the `publish:` section). design.md's topic contract and
/// "Rules users rely on" name these knobs.
public struct PublishSettings: Sendable, Hashable, Encodable {
    /// `json` (one object per device on `<base>/<device>`), `attribute` (one plain topic per
    /// entity) or `attribute_and_json` (`output`, default json).
    public var output: StateOutput
    /// Whether state topics are retained (`retain`, default true).
    public var retain: Bool
    /// Unchanged values are published again at most this often (`republish_interval`, default
    /// 5m, 10s…24h); changes always go out at once.
    public var republishInterval: Duration
    /// How many consecutive lower readings of a `total_increasing` counter are taken as a real
    /// meter reset (`counter_reset_readings`, default 3, 1…100); fewer are a glitch and withheld.
    public var counterResetReadings: Int
    /// A child device (connector, network client) missing from its list for this long is removed
    /// from Home Assistant (`child_grace_period`, default 10m, 0s…30d).
    public var childGracePeriod: Duration
    /// How long to collect retained discovery messages at start before clearing stale ones
    /// (`stale_cleanup_window`, default 3s, 0s…60s; 0s disables the cleanup).
    public var staleCleanupWindow: Duration

    public init(
        output: StateOutput = .json, retain: Bool = true, republishInterval: Duration = .seconds(300),
        counterResetReadings: Int = 3, childGracePeriod: Duration = .seconds(600),
        staleCleanupWindow: Duration = .seconds(3)
    ) {
        self.output = output
        self.retain = retain
        self.republishInterval = republishInterval
        self.counterResetReadings = counterResetReadings
        self.childGracePeriod = childGracePeriod
        self.staleCleanupWindow = staleCleanupWindow
    }

    static let keys = [
        "output", "retain", "republish_interval", "counter_reset_readings", "child_grace_period", "stale_cleanup_window",
    ]

    enum CodingKeys: String, CodingKey {
        case output, retain
        case republishInterval = "republish_interval"
        case counterResetReadings = "counter_reset_readings"
        case childGracePeriod = "child_grace_period"
        case staleCleanupWindow = "stale_cleanup_window"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(output.rawValue, forKey: .output)
        try container.encode(retain, forKey: .retain)
        try container.encode(republishInterval.configDescription, forKey: .republishInterval)
        try container.encode(counterResetReadings, forKey: .counterResetReadings)
        try container.encode(childGracePeriod.configDescription, forKey: .childGracePeriod)
        try container.encode(staleCleanupWindow.configDescription, forKey: .staleCleanupWindow)
    }

    /// Reads the section, reporting every problem.
    static func read(_ section: ConfigSection, reader: ConfigReader) -> PublishSettings {
        reader.rejectUnknownKeys(in: section, allowed: keys)
        var settings = PublishSettings()
        if let value = section["output"],
            let choice = reader.choice(value, among: StateOutput.allCases.map(\.rawValue)),
            let output = StateOutput(rawValue: choice)
        {
            settings.output = output
        }
        if let value = section["retain"], let retain = reader.bool(value) { settings.retain = retain }
        if let value = section["republish_interval"],
            let duration = reader.duration(value, in: .seconds(10) ... .seconds(86_400))
        {
            settings.republishInterval = duration
        }
        if let value = section["counter_reset_readings"], let count = reader.int(value, in: 1...100) {
            settings.counterResetReadings = count
        }
        if let value = section["child_grace_period"], let duration = reader.duration(value, in: .zero ... .seconds(2_592_000)) {
            settings.childGracePeriod = duration
        }
        if let value = section["stale_cleanup_window"], let duration = reader.duration(value, in: .zero ... .seconds(60)) {
            settings.staleCleanupWindow = duration
        }
        return settings
    }
}
