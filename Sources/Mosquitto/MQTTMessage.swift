/// An MQTT quality-of-service level.
public enum QoS: Int32, Sendable, Hashable, CaseIterable, Comparable {
    /// Fire and forget: lost while the broker is unreachable.
    case atMostOnce = 0
    /// Acknowledged by PUBACK; may arrive twice.
    case atLeastOnce = 1
    /// Four-way handshake; arrives exactly once.
    case exactlyOnce = 2

    public static func < (lhs: QoS, rhs: QoS) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The MQTT protocol revision spoken to the broker.
public enum ProtocolVersion: Sendable, Hashable, CustomStringConvertible {
    /// MQTT 5.0 (the default): properties, reason codes, request/response.
    case v5
    /// MQTT 3.1.1, for brokers or deployments that cannot speak 5.
    case v311

    public var description: String {
        switch self {
        case .v5: "5"
        case .v311: "3.1.1"
        }
    }
}

/// MQTT 5 publish properties. Ignored (never sent) when the connection speaks 3.1.1.
public struct PublishProperties: Sendable, Hashable {
    /// Where a responder should send its answer (request/response pattern).
    public var responseTopic: String?
    /// Opaque bytes the responder echoes so the requester can match the answer.
    public var correlationData: [UInt8]?
    /// MIME type of the payload, e.g. `application/json`.
    public var contentType: String?
    /// Seconds after which the broker discards the message if undelivered.
    public var messageExpiryInterval: UInt32?
    /// 1 when the payload is UTF-8 text, 0 for unspecified bytes.
    public var payloadFormatIndicator: UInt8?
    /// Application-defined name/value pairs, in order; names may repeat.
    public var userProperties: [UserProperty]

    public init(
        responseTopic: String? = nil,
        correlationData: [UInt8]? = nil,
        contentType: String? = nil,
        messageExpiryInterval: UInt32? = nil,
        payloadFormatIndicator: UInt8? = nil,
        userProperties: [UserProperty] = []
    ) {
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.contentType = contentType
        self.messageExpiryInterval = messageExpiryInterval
        self.payloadFormatIndicator = payloadFormatIndicator
        self.userProperties = userProperties
    }

    /// True when no property is set, so nothing needs to be encoded.
    public var isEmpty: Bool {
        responseTopic == nil && correlationData == nil && contentType == nil && messageExpiryInterval == nil
            && payloadFormatIndicator == nil && userProperties.isEmpty
    }
}

/// One MQTT 5 user property.
public struct UserProperty: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A message received from the broker on a subscribed topic.
public struct MQTTMessage: Sendable, Hashable {
    /// The topic it was published on.
    public var topic: String
    /// The raw payload bytes.
    public var payload: [UInt8]
    /// The QoS it was delivered with.
    public var qos: QoS
    /// True when the broker delivered it from its retained store (or the publisher set retain).
    public var retain: Bool
    /// MQTT 5 properties; empty on 3.1.1 connections.
    public var properties: PublishProperties

    public init(topic: String, payload: [UInt8], qos: QoS = .atMostOnce, retain: Bool = false, properties: PublishProperties = .init()) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }

    /// The payload decoded as UTF-8 (invalid sequences replaced).
    public var payloadString: String { String(decoding: payload, as: UTF8.self) }
}

/// A message the client sends on its own: the last will, the birth message on every
/// (re)connect, and the message published just before a clean disconnect.
public struct OutgoingMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool
    public var properties: PublishProperties

    public init(topic: String, payload: String, qos: QoS = .atLeastOnce, retain: Bool = true, properties: PublishProperties = .init()) {
        self.topic = topic
        self.payload = Array(payload.utf8)
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}

/// A change of the broker connection, reported after the client has acted on it.
public enum ConnectionChange: Sendable, Hashable {
    /// Connected; `reconnect` is false for the first connection of this client.
    case connected(reconnect: Bool)
    /// The connection was lost; the client is reconnecting.
    case disconnected
}
