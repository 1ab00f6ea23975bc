/// How Home Assistant groups an entity that is not a primary reading or control.
public enum EntityCategory: String, Sendable, Hashable, CaseIterable, Codable {
    /// A setting of the device (writable components only).
    case config
    /// Health and identity: signal strength, uptime, firmware.
    case diagnostic
}
