/// A Home Assistant MQTT discovery component (the `<component>` level of
/// `<discovery_prefix>/<component>/<device>/<entity>/config`).
public enum HAComponent: String, Sendable, Hashable, CaseIterable, Codable {
    /// A read-only value, numeric or text.
    case sensor
    /// A read-only on/off state.
    case binarySensor = "binary_sensor"
    /// An on/off control.
    case `switch`
    /// A numeric control with a range.
    case number
    /// A choice among fixed options.
    case select
    /// A stateless action.
    case button
    /// A free-text control.
    case text
    /// Presence of a network client (home / not_home).
    case deviceTracker = "device_tracker"
    /// A stream of named events.
    case event
    /// Firmware versions: installed and latest.
    case update

    /// Whether the component accepts commands, and so needs a command mapping.
    public var isWritable: Bool {
        switch self {
        case .switch, .number, .select, .button, .text: true
        case .sensor, .binarySensor, .deviceTracker, .event, .update: false
        }
    }

    /// Whether its state is on/off, published as a boolean.
    public var isBinary: Bool {
        self == .binarySensor || self == .switch
    }
}
