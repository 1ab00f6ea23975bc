import CMosquitto

/// A failure of the MQTT client. The description is one line and never contains credentials.
public enum MosquittoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A libmosquitto call failed with a `MOSQ_ERR_*` code.
    case library(operation: String, code: Int32)
    /// The broker answered CONNECT with a refusal that retrying cannot fix (bad credentials,
    /// not authorised, client id rejected).
    case connectionRefused(broker: String, reason: String)
    /// The TLS set-up or handshake failed: wrong CA, hostname mismatch, unreadable files.
    case tls(broker: String, reason: String)
    /// No acknowledgement arrived within the publish deadline.
    case timeout(operation: String, after: Duration)
    /// The message was dropped from the bounded offline queue to make room for newer ones.
    case droppedFromOfflineQueue
    /// The broker acknowledged with an MQTT 5 failure reason code.
    case rejected(operation: String, reasonCode: Int32, reason: String)
    /// The client is shutting down (or was never started) and takes no more work.
    case notRunning
    /// An argument was unusable (empty topic, oversize payload, wildcard in a publish topic).
    case invalidArgument(String)
    /// libmosquitto gave the message's id to a newer message before the broker acknowledged
    /// it (its 16-bit ids wrapped around), so its acknowledgement can no longer be recognised.
    case acknowledgementUntraceable(operation: String)

    public var description: String {
        switch self {
        case .library(let operation, let code):
            return "\(operation) failed: \(Self.describe(code: code))"
        case .connectionRefused(let broker, let reason):
            return "broker \(broker) refused the connection: \(reason)"
        case .tls(let broker, let reason):
            return "TLS with broker \(broker) failed: \(reason)"
        case .timeout(let operation, let after):
            return "\(operation) not acknowledged within \(after)"
        case .droppedFromOfflineQueue:
            return "dropped from the offline queue (full) while the broker was unreachable"
        case .rejected(let operation, let code, let reason):
            return "\(operation) rejected by the broker: \(reason) (reason code \(code))"
        case .notRunning:
            return "the MQTT client is not running"
        case .invalidArgument(let text):
            return text
        case .acknowledgementUntraceable(let operation):
            return "\(operation): its message id was reused before the broker acknowledged it; delivery is not confirmed"
        }
    }

    /// The libmosquitto text for a `MOSQ_ERR_*` code.
    static func describe(code: Int32) -> String {
        guard let text = mosquitto_strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
