import Logging

/// What the daemon logs and how (the `log:` section).
public struct LogSettings: Sendable, Hashable, Encodable {
    /// How log lines are written.
    public enum Format: String, Sendable, Hashable, CaseIterable, Encodable {
        /// One human-readable line per event.
        case text
        /// One JSON object per line, for log shippers.
        case json
    }

    /// The lowest level written (`level`, default `info`).
    public var level: Logger.Level
    /// The line format (`format`, default `text`).
    public var format: Format

    /// Creates the settings.
    public init(level: Logger.Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }

    /// Every key the section accepts.
    static let keys = ["level", "format"]

    /// Reads the section, reporting every problem.
    static func read(_ section: ConfigSection, reader: ConfigReader) -> LogSettings {
        reader.rejectUnknownKeys(in: section, allowed: keys)
        var settings = LogSettings()
        let levels = Logger.Level.allCases.map(\.rawValue)
        if let value = section["level"], let text = reader.choice(value, among: levels),
            let level = Logger.Level(rawValue: text)
        {
            settings.level = level
        }
        if let value = section["format"], let text = reader.choice(value, among: Format.allCases.map(\.rawValue)),
            let format = Format(rawValue: text)
        {
            settings.format = format
        }
        return settings
    }
}
