/// The few MQTT operations the core needs. The executable adapts the real libmosquitto client to
/// it (in one file); unit tests use an in-memory broker. `BridgeCore` never imports an MQTT library.
public protocol BrokerConnection: Sendable {
    /// Publishes and, for QoS ≥ 1, waits for the broker's acknowledgement.
    func publish(_ message: OutboundMessage) async throws
    /// Hands a message over without waiting for its acknowledgement (bulk state and discovery).
    func enqueue(_ message: OutboundMessage) throws
    /// Subscribes now and after every reconnect.
    func subscribe(_ filter: String) async throws
    /// Subscribes without receiving what this connection publishes itself (MQTT 5's No Local;
    /// messages retained before still arrive). Where the protocol cannot, like ``subscribe(_:)``.
    func subscribeIgnoringOwnMessages(_ filter: String) async throws
    /// Stops a subscription.
    func unsubscribe(_ filter: String)
    /// True while the broker connection is up.
    var isConnected: Bool { get }
    /// True when the connection speaks MQTT 5 (response topics and correlation data work).
    var supportsProperties: Bool { get }
    /// `mqtt://host:port` — for logs and `bridge/info`, never with credentials.
    var brokerDescription: String { get }
}

extension BrokerConnection {
    /// Connections that cannot tell their own messages apart receive them like any other.
    public func subscribeIgnoringOwnMessages(_ filter: String) async throws {
        try await subscribe(filter)
    }
}

/// A message to publish.
public struct OutboundMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    /// 0, 1 or 2.
    public var qos: Int
    public var retain: Bool
    /// MQTT 5 only: where the receiver should answer.
    public var responseTopic: String?
    /// MQTT 5 only: echoed back from a request.
    public var correlationData: [UInt8]?
    /// MQTT 5 only: e.g. `application/json`.
    public var contentType: String?

    public init(
        topic: String, payload: [UInt8], qos: Int = 0, retain: Bool = false, responseTopic: String? = nil,
        correlationData: [UInt8]? = nil, contentType: String? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.contentType = contentType
    }

    public init(topic: String, string: String, qos: Int = 0, retain: Bool = false) {
        self.init(topic: topic, payload: Array(string.utf8), qos: qos, retain: retain)
    }
}

/// A message received on one of the core's subscriptions.
public struct InboundMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    /// True when delivered from the broker's retained store (or published with retain).
    public var retain: Bool
    /// MQTT 5: the requester's response topic.
    public var responseTopic: String?
    /// MQTT 5: the requester's correlation data, to echo.
    public var correlationData: [UInt8]?

    public init(
        topic: String, payload: [UInt8], retain: Bool = false, responseTopic: String? = nil,
        correlationData: [UInt8]? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.retain = retain
        self.responseTopic = responseTopic
        self.correlationData = correlationData
    }

    public init(topic: String, string: String, retain: Bool = false) {
        self.init(topic: topic, payload: Array(string.utf8), retain: retain)
    }

    /// The payload as UTF-8 text.
    public var payloadString: String { String(decoding: payload, as: UTF8.self) }
}
