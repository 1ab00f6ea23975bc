/// The operations HTTP server: `/health` and `/metrics` (the `http:` section).
public struct HTTPSettings: Sendable, Hashable, Encodable {
    /// Whether the server runs (`enabled`, default true).
    public var enabled: Bool
    /// Where it listens (`listen`, default `127.0.0.1:9180`; loopback only unless widened on purpose).
    public var listen: ListenAddress

    /// The address used when the file names none.
    public static let defaultListen = ListenAddress(host: "127.0.0.1", port: 9180)

    /// Creates the settings.
    public init(enabled: Bool = true, listen: ListenAddress = HTTPSettings.defaultListen) {
        self.enabled = enabled
        self.listen = listen
    }

    /// Every key the section accepts.
    static let keys = ["enabled", "listen"]

    /// Reads the section, reporting every problem.
    static func read(_ section: ConfigSection, reader: ConfigReader) -> HTTPSettings {
        reader.rejectUnknownKeys(in: section, allowed: keys)
        var settings = HTTPSettings()
        if let value = section["enabled"], let enabled = reader.bool(value) { settings.enabled = enabled }
        if let value = section["listen"] {
            if let listen = value.text.flatMap(ListenAddress.init(configString:)) {
                settings.listen = listen
            } else {
                reader.report(
                    "expected host:port with a port from 1 to 65535, like 127.0.0.1:9180 or [::1]:9180, "
                        + "got \(value.shapeDescription)",
                    at: value.position,
                    path: value.path
                )
            }
        }
        return settings
    }
}
