import Logging

/// Answers `<base>/bridge/request/<action>` on `<base>/bridge/response/<action>`.
///
/// Contract (design.md): the request payload is a JSON object (or empty); its `transaction`
/// member, whatever its JSON type, is echoed in the response. Every request gets exactly one
/// response: `{"status":"ok","data":…,"transaction":…}` or
/// `{"status":"error","error":"…","data":{},"transaction":…}` — unknown actions and bad JSON
/// included. With MQTT 5 the same response also goes to the request's response topic with its
/// correlation data. Retained requests are ignored, so a retained `source/restart` does not fire
/// again at every reconnect.
public actor BridgeRequestHandler {
    /// An action: gets the request's parameters (without `transaction`), returns the response data.
    /// Throwing ``BridgeRequestError`` (or any error) produces an error response.
    public typealias Action = @Sendable (_ parameters: JSONValue) async throws -> JSONValue

    private var actions: [String: Action] = [:]
    private let topics: BridgeTopics
    private let logger: Logger

    public init(topics: BridgeTopics, logger: Logger) {
        self.topics = topics
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
                metadata: ["mqtt.topic": "\(message.topic)"])
            return []
        }
        let body = await respond(action: action, payload: message.payload)
        var responses = [
            OutboundMessage(topic: topics.response(for: action), payload: body.jsonBytes, qos: 1, retain: false)
        ]
        if let responseTopic = message.responseTopic, !responseTopic.isEmpty {
            responses.append(
                OutboundMessage(
                    topic: responseTopic, payload: body.jsonBytes, qos: 1, retain: false,
                    correlationData: message.correlationData, contentType: "application/json"))
        }
        return responses
    }

    /// Runs `action` with the payload's parameters and builds the response document.
    func respond(action: String, payload: [UInt8]) async -> JSONValue {
        var transaction: JSONValue?
        let parameters: JSONValue
        let trimmed = payload.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if trimmed.isEmpty {
            parameters = .object([:])
        } else {
            do {
                var parsed = try JSONValue.parse(payload)
                if case .object(var members) = parsed {
                    transaction = members.removeValue(forKey: "transaction")
                    parsed = .object(members)
                }
                parameters = parsed
            } catch {
                return Self.errorResponse("invalid JSON in request payload", transaction: nil)
            }
        }
        guard let handler = actions[action] else {
            logger.debug("Unknown bridge request", metadata: ["bridge.action": "\(action)"])
            return Self.errorResponse(
                "unknown action '\(action)' (known: \(actionNames.joined(separator: ", ")))", transaction: transaction)
        }
        do {
            let data = try await handler(parameters)
            var response: [String: JSONValue] = ["status": "ok", "data": data]
            if let transaction { response["transaction"] = transaction }
            return .object(response)
        } catch let error as BridgeRequestError {
            return Self.errorResponse(error.description, transaction: transaction)
        } catch {
            logger.error(
                "Bridge request failed unexpectedly",
                metadata: ["bridge.action": "\(action)", "error": "\(String(describing: error))"])
            return Self.errorResponse("internal error", transaction: transaction)
        }
    }

    static func errorResponse(_ message: String, transaction: JSONValue?) -> JSONValue {
        var response: [String: JSONValue] = ["status": "error", "error": .string(message), "data": .object([:])]
        if let transaction { response["transaction"] = transaction }
        return .object(response)
    }
}

/// A failure an action reports to the requester; its description is the response's `error`.
public struct BridgeRequestError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
