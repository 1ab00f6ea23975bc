/// The MQTT protocol version spoken to the broker (`mqtt.protocol`).
public enum MQTTProtocolVersion: String, Sendable, Hashable, CaseIterable, Encodable {
    /// MQTT 5: response topics and correlation data for command results. The default.
    case v5 = "5"
    /// MQTT 3.1.1, for brokers that lack version 5.
    case v311 = "3.1.1"

    /// Reads the spellings a YAML file may produce: `5`, `5.0`, `"5"`, `3.1.1`, `"3.1.1"`, `311`.
    public init?(configString text: String) {
        switch text {
        case "5", "5.0": self = .v5
        case "3.1.1", "311": self = .v311
        default: return nil
        }
    }
}
