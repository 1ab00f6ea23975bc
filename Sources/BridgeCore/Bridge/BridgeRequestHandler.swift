import Logging

/// Answers `<base>/bridge/request/<action>` on `<base>/bridge/response/<action>`.
///
/// Contract (design.md): the request payload is a JSON object (or empty); its `transaction`
/// member, whatever its JSON type, is echoed in the response. Every request gets exactly one
/// response: `{"status":"ok","data":…,"transaction":…}` or
/// `{"status":"error","error":"…","data":{},"transaction":…}` — unknown actions and bad JSON
/// included. With MQTT 5 the same response also goes to the request's response topic with its
/// correlation data, unless that topic is inside the bridge's tree or the discovery prefix
/// (``ResponseTopic``): a client cannot make the bridge write onto its own state or command
/// topics. The transaction is echoed exactly as received (``CommandTransaction``). Retained requests
/// are ignored, so a retained `source/restart` does not fire again at every reconnect.
public actor BridgeRequestHandler {
    /// An action: gets the request's parameters (without `transaction`), returns the response data.
    /// Throwing ``BridgeRequestError`` (or any error) produces an error response.
    public typealias Action = @Sendable (_ parameters: JSONValue) async throws -> JSONValue

    private var actions: [String: Action] = [:]
    private let topics: BridgeTopics
    private let responseTopics: ResponseTopic
    private let logger: Logger

    /// - Parameter discoveryPrefix: Home Assistant's discovery prefix: no response topic inside it
    ///   is answered on (nor inside `<base>/`).
    public init(topics: BridgeTopics, discoveryPrefix: String? = HomeAssistantSettings.defaultDiscoveryPrefix, logger: Logger) {
        self.topics = topics
        self.responseTopics = ResponseTopic(base: topics.base, discoveryPrefix: discoveryPrefix)
        self.logger = logger
    }

    /// Registers (or replaces) an action.
    public func register(_ name: String, _ action: @escaping Action) {
        actions[name] = action
    }

    /// The registered action names, sorted.
    public var actionNames: [String] { actions.keys.sorted() }

    /// Handles one request message.
    /// - Returns: the responses to publish (one on the response topic, and one more on the MQTT 5
    ///   response topic when the request named one), or nothing for a non-request or retained message.
    public func handle(_ message: InboundMessage) async -> [OutboundMessage] {
        guard let action = topics.action(fromRequestTopic: message.topic) else { return [] }
        if message.retain {
            logger.warning(
                "Ignored a retained bridge request (it would run again at every reconnect)",
                metadata: ["mqtt.topic": "\(LogText.escaped(message.topic))"])
            return []
        }
        let body = await respond(action: action, payload: message.payload)
        var responses = [
            OutboundMessage(topic: topics.response(for: action), payload: body, qos: 1, retain: false)
        ]
        if let responseTopic = message.responseTopic, !responseTopic.isEmpty {
            if let reason = responseTopics.refusal(of: responseTopic) {
                logger.warning(
                    "Refused a bridge request's MQTT 5 response topic; the response goes to bridge/response only",
                    metadata: [
                        "mqtt.topic": "\(LogText.escaped(message.topic))",
                        "mqtt.response_topic": "\(LogText.escaped(responseTopic))", "reason": "\(LogText.escaped(reason))",
                    ])
            } else {
                responses.append(
                    OutboundMessage(
                        topic: responseTopic, payload: body, qos: 1, retain: false,
                        correlationData: message.correlationData, contentType: "application/json"))
            }
        }
        return responses
    }

    /// Runs `action` with the payload's parameters and renders the response document.
    func respond(action: String, payload: [UInt8]) async -> [UInt8] {
        var transaction: CommandTransaction?
        let parameters: JSONValue
        let trimmed = payload.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if trimmed.isEmpty {
            parameters = .object([:])
        } else {
            guard CommandPayload.isParsable(payload) else {
                return Self.errorResponse(
                    "request payload too large or nested too deep "
                        + "(at most \(CommandPayload.maxBytes) bytes, \(CommandPayload.maxDepth) levels)",
                    transaction: nil)
            }
            do {
                var parsed = try JSONValue.parse(payload)
                transaction = CommandTransaction.member(of: payload, parsed: parsed)
                if case .object(var members) = parsed {
                    members.removeValue(forKey: "transaction")
                    parsed = .object(members)
                }
                parameters = parsed
            } catch {
                return Self.errorResponse("invalid JSON in request payload", transaction: nil)
            }
        }
        guard let handler = actions[action] else {
            logger.debug("Unknown bridge request", metadata: ["bridge.action": "\(LogText.escaped(action))"])
            return Self.errorResponse(
                "unknown action '\(LogText.escaped(action, limit: 64))' (known: \(actionNames.joined(separator: ", ")))",
                transaction: transaction)
        }
        do {
            let data = try await handler(parameters)
            return JSONValue.renderedObject(["status": "ok", "data": data], transaction: transaction)
        } catch let error as BridgeRequestError {
            return Self.errorResponse(error.description, transaction: transaction)
        } catch {
            logger.error(
                "Bridge request failed unexpectedly",
                metadata: [
                    "bridge.action": "\(LogText.escaped(action))", "error": "\(LogText.escaped(String(describing: error), limit: 300))",
                ])
            return Self.errorResponse("internal error", transaction: transaction)
        }
    }

    static func errorResponse(_ message: String, transaction: CommandTransaction?) -> [UInt8] {
        JSONValue.renderedObject(["status": "error", "error": .string(message), "data": .object([:])], transaction: transaction)
    }
}

/// A failure an action reports to the requester; its description is the response's `error`.
public struct BridgeRequestError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
