/// The command topics the router accepts (design.md topic contract):
///
/// - `<base>/<device>/set` — JSON `{"<entity>": value, ...}`, optional `"transaction"`
/// - `<base>/<device>/<entity>/set` — a plain value, or JSON for structured commands
///   (`{"value": ..., "transaction": ...}` carries a transaction)
///
/// It subscribes to `<base>/+/set` and `<base>/+/+/set` and nothing broader.
public struct CommandTopic: Sendable, Hashable {
    public var device: String
    /// nil for the device-level form.
    public var entity: String?

    /// The two subscription filters.
    public static func filters(base: String) -> [String] { ["\(base)/+/set", "\(base)/+/+/set"] }

    /// The longest device or entity id a topic level may hold.
    public static let maxIDLength = 255

    /// Whether `level` could be a device (or entity) id: 1 to ``maxIDLength`` characters of
    /// `[a-z0-9_-]` (design.md's topic contract). Only such a device gets a result on
    /// `<base>/<device>/result`, so no command can make the bridge publish on a topic built
    /// from an arbitrary string.
    public static func isID(_ level: some StringProtocol) -> Bool {
        level.utf8.count <= maxIDLength && TopicSafe.isSafe(String(level))
    }

    /// Whether the device level is a possible device id (see ``isID(_:)``).
    public var hasDeviceID: Bool { Self.isID(device) }

    /// Parses a topic of either form under `base`; nil for anything else.
    public init?(topic: String, base: String) {
        // `<base>/set` shares its slash between prefix and suffix: not a command topic.
        guard topic.hasPrefix(base + "/"), topic.hasSuffix("/set"), topic.utf8.count >= base.utf8.count + 5 else { return nil }
        let middle = topic.dropFirst(base.count + 1).dropLast(4)
        let levels = middle.split(separator: "/", omittingEmptySubsequences: false)
        // An empty level is kept: the subscriptions' `+` matches it, so such a command was
        // received and gets its one answer (`unknown_device` / `unknown_entity`) like any other.
        switch levels.count {
        case 1:
            device = String(levels[0])
            entity = nil
        case 2:
            device = String(levels[0])
            entity = String(levels[1])
        default:
            return nil
        }
    }
}

/// One command to run: an entity, its value and the request's bookkeeping.
public struct CommandRequest: Sendable, Hashable {
    public var device: String
    public var entity: String
    /// The value: typed JSON, or for a plain payload its text read as JSON where it is JSON.
    public var value: JSONValue
    /// A plain payload's text (trimmed), validated as text; nil for the JSON forms.
    public var plainText: String?
    public var transaction: CommandTransaction?
    /// The MQTT 5 response topic, already checked (see ``ResponseTopic``).
    public var responseTopic: String?
    public var correlationData: [UInt8]?
}

/// The single result of a command, published on `<base>/<device>/result` (and the MQTT 5
/// response topic): `{"entity","status":"ok"/"error","error","error_code","transaction","http_status"}`.
public struct CommandResult: Sendable, Hashable {
    public var device: String
    public var entity: String?
    public var failure: CommandFailure?
    public var httpStatus: Int?
    public var transaction: CommandTransaction?

    /// The members other than `transaction`.
    private var members: [String: JSONValue] {
        var object: [String: JSONValue] = ["status": failure == nil ? "ok" : "error"]
        object["entity"] = entity.map(JSONValue.string)
        if let failure {
            object["error"] = .string(failure.message)
            object["error_code"] = .string(failure.code.rawValue)
        }
        if let status = failure?.httpStatus ?? httpStatus { object["http_status"] = .number(Double(status)) }
        return object
    }

    /// The result as a value (a transaction number beyond 2^53 is rounded here; ``payload``
    /// keeps its digits).
    public var json: JSONValue {
        var object = members
        object["transaction"] = transaction?.value
        return .object(object)
    }

    /// The result as published: compact JSON with the transaction exactly as received.
    public var payload: [UInt8] { JSONValue.renderedObject(members, transaction: transaction) }
}
