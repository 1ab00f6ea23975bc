/// Where user mapping files live (the `mappings:` section).
public struct MappingSettings: Sendable, Hashable, Encodable {
    /// A folder of mapping files overlaying the built-in ones (`directory`); it must exist when given.
    public var directory: String?

    /// Creates the settings.
    public init(directory: String? = nil) {
        self.directory = directory
    }

    /// Every key the section accepts.
    static let keys = ["directory"]

    /// Reads the section, reporting every problem.
    static func read(_ section: ConfigSection, reader: ConfigReader) -> MappingSettings {
        reader.rejectUnknownKeys(in: section, allowed: keys)
        return MappingSettings(directory: section["directory"].flatMap { reader.existingPath($0, kind: .directory) })
    }
}
