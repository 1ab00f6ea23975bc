/// How the bridge connects to the MQTT broker (the `mqtt:` section).
public struct MQTTSettings: Sendable, Hashable, Encodable {
    /// The broker's address (`url`, required).
    public var url: BrokerURL
    /// The MQTT client identifier (`client_id`, default `api2mqtt`, 1–64 characters, no control
    /// characters). Give each instance its own when several run against one broker.
    public var clientID: String
    /// The user name to log in with (`username`), if the broker wants one.
    public var username: String?
    /// The password (`password` or `password_file`); requires ``username``.
    public var password: Secret?
    /// The protocol version (`protocol`, default 5).
    public var protocolVersion: MQTTProtocolVersion
    /// How often the client pings an idle connection (`keepalive`, default 60s, 5s…65535s, whole seconds).
    public var keepalive: Duration
    /// TLS options (`tls`); `nil` uses the system trust store for `mqtts://`.
    public var tls: TLSSettings?
    /// The first level of every topic the bridge publishes (`base_topic`, default `api2mqtt`).
    public var baseTopic: String
    /// The longest wait between reconnect attempts (`reconnect_max_delay`, default 60s, 1s…1h).
    public var reconnectMaxDelay: Duration
    /// How many QoS 1 messages are held while the broker is away (`offline_queue_limit`,
    /// default 1000, 0…1000000); the oldest are dropped beyond it.
    public var offlineQueueLimit: Int
    /// How long a publish may wait for the broker's acknowledgement (`publish_timeout`, default 10s, 1s…5m).
    public var publishTimeout: Duration

    /// The `client_id` used when the file names none.
    public static let defaultClientID = "api2mqtt"
    /// The `base_topic` used when the file names none.
    public static let defaultBaseTopic = "api2mqtt"
    /// Allowed `keepalive` values: MQTT carries it as a 16-bit count of seconds.
    public static let keepaliveRange: ClosedRange<Duration> = .seconds(5) ... .seconds(65535)
    /// Allowed `reconnect_max_delay` values.
    public static let reconnectMaxDelayRange: ClosedRange<Duration> = .seconds(1) ... .seconds(3600)
    /// Allowed `offline_queue_limit` values.
    public static let offlineQueueLimitRange: ClosedRange<Int> = 0...1_000_000
    /// Allowed `publish_timeout` values.
    public static let publishTimeoutRange: ClosedRange<Duration> = .seconds(1) ... .seconds(300)

    /// Creates MQTT settings; every argument but `url` has the documented default.
    public init(
        url: BrokerURL,
        clientID: String = MQTTSettings.defaultClientID,
        username: String? = nil,
        password: Secret? = nil,
        protocolVersion: MQTTProtocolVersion = .v5,
        keepalive: Duration = .seconds(60),
        tls: TLSSettings? = nil,
        baseTopic: String = MQTTSettings.defaultBaseTopic,
        reconnectMaxDelay: Duration = .seconds(60),
        offlineQueueLimit: Int = 1000,
        publishTimeout: Duration = .seconds(10)
    ) {
        self.url = url
        self.clientID = clientID
        self.username = username
        self.password = password
        self.protocolVersion = protocolVersion
        self.keepalive = keepalive
        self.tls = tls
        self.baseTopic = baseTopic
        self.reconnectMaxDelay = reconnectMaxDelay
        self.offlineQueueLimit = offlineQueueLimit
        self.publishTimeout = publishTimeout
    }

    enum CodingKeys: String, CodingKey {
        case url, username, password, keepalive, tls
        case clientID = "client_id"
        case protocolVersion = "protocol"
        case baseTopic = "base_topic"
        case reconnectMaxDelay = "reconnect_max_delay"
        case offlineQueueLimit = "offline_queue_limit"
        case publishTimeout = "publish_timeout"
    }

    /// Encodes the settings with their configuration keys; durations as `10s`, the password as `***`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(url, forKey: .url)
        try container.encode(clientID, forKey: .clientID)
        try container.encodeIfPresent(username, forKey: .username)
        try container.encodeIfPresent(password, forKey: .password)
        try container.encode(protocolVersion, forKey: .protocolVersion)
        try container.encode(keepalive.configDescription, forKey: .keepalive)
        try container.encodeIfPresent(tls, forKey: .tls)
        try container.encode(baseTopic, forKey: .baseTopic)
        try container.encode(reconnectMaxDelay.configDescription, forKey: .reconnectMaxDelay)
        try container.encode(offlineQueueLimit, forKey: .offlineQueueLimit)
        try container.encode(publishTimeout.configDescription, forKey: .publishTimeout)
    }
}
