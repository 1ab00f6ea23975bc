import CMosquitto
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The C trampolines. They run on the client's network thread (`NetworkLoop`) and do nothing but copy data
// out of libmosquitto's buffers (valid only during the callback) into Sendable Swift values and
// hand them over: yield into an AsyncStream or resume a waiting continuation. They never log,
// never call libmosquitto, and never take a lock that Swift code holds while calling
// libmosquitto in a way that could wait for this thread (see `publishLocked`).
extension MosquittoClient {
    func installCallbacks() {
        let handle = rawHandle
        mosquitto_connect_v5_callback_set(handle) { _, object, code, _, _ in
            ClientCore.from(object)?.events.yield(.connected(code: code))
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, object, code, _ in
            ClientCore.from(object)?.events.yield(.disconnected(code: code))
        }
        mosquitto_publish_v5_callback_set(handle) { _, object, mid, reasonCode, _ in
            let failure: MosquittoError? =
                reasonCode >= 0x80
                ? .rejected(operation: "publish", reasonCode: reasonCode, reason: MosquittoClient.reasonText(reasonCode))
                : nil
            ClientCore.from(object)?.acknowledge(mid: mid, failure: failure)
        }
        mosquitto_subscribe_v5_callback_set(handle) { _, object, mid, count, granted, _ in
            var failure: MosquittoError?
            if count > 0, let granted, granted[0] >= 0x80 {
                failure = .rejected(
                    operation: "subscribe", reasonCode: granted[0], reason: MosquittoClient.reasonText(granted[0]))
            }
            ClientCore.from(object)?.acknowledge(mid: mid, failure: failure)
        }
        if configuration.scheme == .mqtts {
            // Only for TLS: libmosquitto formats every log line (one malloc + vsnprintf per packet)
            // as soon as a log callback is set, and only TLS failures need it.
            mosquitto_log_callback_set(handle) { _, object, level, text in
                guard level == MOSQ_LOG_ERR, let text else { return }
                ClientCore.from(object)?.events.yield(.libraryError(String(cString: text)))
            }
        }
        mosquitto_message_v5_callback_set(handle) { _, object, message, properties in
            guard let core = ClientCore.from(object), let message else { return }
            let raw = message.pointee
            let topic = raw.topic.map { String(cString: $0) } ?? ""
            var payload: [UInt8] = []
            if let bytes = raw.payload, raw.payloadlen > 0 {
                payload = Array(UnsafeRawBufferPointer(start: bytes, count: Int(raw.payloadlen)))
            }
            core.deliver(
                MQTTMessage(
                    topic: topic, payload: payload, qos: QoS(rawValue: raw.qos) ?? .atMostOnce, retain: raw.retain,
                    properties: MosquittoClient.readProperties(properties)))
        }
    }

    /// Copies the MQTT 5 properties of a received message into a Swift value.
    static func readProperties(_ list: OpaquePointer?) -> PublishProperties {
        guard let list else { return PublishProperties() }
        var result = PublishProperties()
        result.responseTopic = readString(list, MQTT_PROP_RESPONSE_TOPIC)
        result.contentType = readString(list, MQTT_PROP_CONTENT_TYPE)
        var length: UInt16 = 0
        var data: UnsafeMutableRawPointer?
        if mosquitto_property_read_binary(list, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &data, &length, false) != nil {
            if let data {
                result.correlationData = Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
                free(data)
            } else {
                result.correlationData = []
            }
        }
        var expiry: UInt32 = 0
        if mosquitto_property_read_int32(list, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), &expiry, false) != nil {
            result.messageExpiryInterval = expiry
        }
        var indicator: UInt8 = 0
        if mosquitto_property_read_byte(list, Int32(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR.rawValue), &indicator, false) != nil {
            result.payloadFormatIndicator = indicator
        }
        var cursor: OpaquePointer? = list
        var skipFirst = false
        while let current = cursor {
            var name: UnsafeMutablePointer<CChar>?
            var value: UnsafeMutablePointer<CChar>?
            cursor = mosquitto_property_read_string_pair(
                current, Int32(MQTT_PROP_USER_PROPERTY.rawValue), &name, &value, skipFirst)
            guard cursor != nil else { break }
            if let name, let value { result.userProperties.append(UserProperty(String(cString: name), String(cString: value))) }
            free(name)
            free(value)
            skipFirst = true
        }
        return result
    }

    private static func readString(_ list: OpaquePointer, _ identifier: mqtt5_property) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard mosquitto_property_read_string(list, Int32(identifier.rawValue), &value, false) != nil, let value else {
            return nil
        }
        defer { free(value) }
        return String(cString: value)
    }

    /// libmosquitto's text for an MQTT 5 reason code.
    static func reasonText(_ code: Int32) -> String {
        guard let text = mosquitto_reason_string(code) else { return "reason code \(code)" }
        return String(cString: text)
    }

    /// libmosquitto's text for a 3.1.1 CONNACK code.
    static func connackText(_ code: Int32) -> String {
        guard let text = mosquitto_connack_string(code) else { return "CONNACK code \(code)" }
        return String(cString: text)
    }
}
