/// `HanStateMessage`: general information about the reader (`GET /han`, first message of SSE and WS).
public struct CozifyHANStateMessage: Codable, Hashable, Sendable {
    /// Always `HAN_STATE_MESSAGE`.
    public var type = "HAN_STATE_MESSAGE"
    /// Stable identifier of the reader.
    public var uuid: String
    /// Hostname on the local network.
    public var name: String
    /// Hardware model.
    public var model: String
    /// Serial number.
    public var serial: String
    /// Firmware version.
    public var version: String
    /// Lifecycle state, e.g. `REGISTERED`.
    public var state: String
    /// MAC address.
    public var mac: String
    /// Ethernet IPv4 address, `0.0.0.0` when none.
    public var ethIp: String
    /// Wi-Fi IPv4 address, `0.0.0.0` when none.
    public var wifiIp: String
    /// Whether the reader is online and operational.
    public var online: Bool
    /// Firmware channel, e.g. `release`.
    public var channel: String
}

/// `HanMeterIdentityMessage`: the meter's identity from its telegrams (`GET /meter/id`).
public struct CozifyHANMeterIdentityMessage: Codable, Hashable, Sendable {
    /// Always `HAN_METER_IDENTITY_MESSAGE`.
    public var type = "HAN_METER_IDENTITY_MESSAGE"
    /// Manufacturer identifier, at most 4 characters (e.g. `KFM`).
    public var manufacturerId: String
    /// Device type, at most 2 characters (e.g. `E`).
    public var deviceType: String
    /// Meter serial number, at most 16 characters.
    public var meterId: String
    /// Meter name, at most 16 characters (e.g. `AM550`).
    public var meterName: String
}

/// `HanHealthMessage`: runtime diagnostics (`GET /health`). Property names are the wire names.
public struct CozifyHANHealthMessage: Codable, Hashable, Sendable {
    /// Always `HAN_HEALTH_MESSAGE`.
    public var type = "HAN_HEALTH_MESSAGE"
    /// Stable identifier of the reader.
    public var uuid: String
    /// Hostname on the local network.
    public var hostname: String
    /// Free heap now, bytes.
    public var free_heap_size: Int
    /// Lowest free heap since boot, bytes.
    public var minimum_free_heap_size: Int
    /// Last reset cause, e.g. `RST_POWERON`.
    public var cpu_reset_reason: String
    /// Milliseconds since boot.
    public var uptime_ms: Int64
}

/// The `{success, message}` answer of `POST /configuration` and `POST /set-up`, also used for 400 bodies.
public struct CozifyHANResult: Codable, Hashable, Sendable {
    /// Whether the request was applied.
    public var success: Bool
    /// What happened, or what was wrong with the request.
    public var message: String
}

/// `HAN_OTA_MESSAGE`, a message type newer firmware sends on SSE/WS that the document does not list
/// (sent with the `unknownMessageTypes` quirk).
public struct CozifyHANOTAMessage: Codable, Hashable, Sendable {
    /// Always `HAN_OTA_MESSAGE`.
    public var type = "HAN_OTA_MESSAGE"
    /// Update state, e.g. `IDLE`.
    public var state: String
    /// Update progress in percent.
    public var progress: Int
}
