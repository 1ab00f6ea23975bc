import Logging
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns MQTT commands into source calls, and answers every command with exactly one result.
///
/// Contract (design.md): a command is validated against the mapping before any call; a bad one
/// gets an error result and makes no call. Commands to one device run one after another; different
/// devices run concurrently. Retained commands are ignored (logged) unless the source sets
/// `accept_retained_commands`, so a retained `restart` does not fire again at every reconnect.
/// After a successful command the source re-reads the affected state.
///
/// What is answered where: a result goes to `<base>/<device>/result` only when the topic's
/// device level is a possible device id (``CommandTopic/isID(_:)``); a command to any other
/// string gets its one `unknown_device` result on its MQTT 5 response topic only, or, without
/// one, just a log line. A response topic inside the bridge's tree or the discovery prefix is
/// refused (``ResponseTopic``). Payloads are checked as bytes first (``CommandPayload``), and
/// everything from outside that is logged is escaped and bounded (``LogText``).
public actor CommandRouter {
    /// A source the router can send commands to.
    public struct Route: Sendable {
        public var bridge: SourcePublisher
        public var executor: any CommandExecutor

        public init(bridge: SourcePublisher, executor: any CommandExecutor) {
            self.bridge = bridge
            self.executor = executor
        }
    }

    /// Commands for a device the bridge implements itself (its own Home Assistant device); the
    /// value has passed the entity's validation.
    public typealias LocalHandler = @Sendable (_ entity: String, _ value: JSONValue) async throws(CommandFailure) -> Void

    private let base: String
    private let responseTopics: ResponseTopic
    private let broker: any BrokerConnection
    private let logger: Logger
    private let commandTimeout: Duration
    private var routes: [String: Route] = [:]
    private var local: [String: (commands: [String: CommandValidation], handler: LocalHandler)] = [:]
    /// The last queued command per device: the next one waits for it (per-device serialisation).
    private var tails: [String: Task<Void, Never>] = [:]

    /// - Parameter discoveryPrefix: Home Assistant's discovery prefix: no response topic inside it
    ///   is answered on (nor inside `<base>/`).
    public init(
        base: String, broker: any BrokerConnection, commandTimeout: Duration = .seconds(30),
        discoveryPrefix: String? = HomeAssistantSettings.defaultDiscoveryPrefix, logger: Logger
    ) {
        self.base = base
        self.responseTopics = ResponseTopic(base: base, discoveryPrefix: discoveryPrefix)
        self.broker = broker
        self.commandTimeout = commandTimeout
        self.logger = logger
    }

    public func register(_ route: Route) {
        routes[route.bridge.deviceID] = route
    }

    /// Registers a device the bridge implements itself: its commands, each with the validation
    /// its value must pass before `handler` runs (a button's is ``CommandValidation/press``).
    public func registerLocal(device: String, commands: [String: CommandValidation], handler: @escaping LocalHandler) {
        local[device] = (commands, handler)
    }

    /// Subscribes to the two command filters.
    public func subscribe() async throws {
        for filter in CommandTopic.filters(base: base) { try await broker.subscribe(filter) }
    }

    /// Handles one received message. Returns false when it is not a command topic.
    @discardableResult
    public func handle(_ message: InboundMessage) -> Bool {
        guard let topic = CommandTopic(topic: message.topic, base: base) else { return false }
        if message.retain && !(route(for: topic.device)?.route.bridge.configuration.acceptRetainedCommands ?? false) {
            logger.warning(
                "Ignored a retained command (it would fire again at every reconnect)",
                metadata: ["mqtt.topic": "\(LogText.escaped(message.topic))"])
            return true
        }
        let responseTopic = acceptedResponseTopic(of: message)
        let (parsed, transaction) = Self.requests(from: message, topic: topic, responseTopic: responseTopic)
        guard topic.hasDeviceID else {
            // No result topic from an arbitrary string: the one result goes to the response topic only.
            let failure = CommandFailure(
                .unknownDevice,
                "the topic's device level is not a device id (1 to \(CommandTopic.maxIDLength) characters of a-z, 0-9, _ and -)")
            logger.notice(
                "Refused a command to a topic that is no device's",
                metadata: [
                    "mqtt.topic": "\(LogText.escaped(message.topic))",
                    "answered_on": "\(responseTopic.map { LogText.escaped($0) } ?? "nothing (no MQTT 5 response topic)")",
                ])
            let entity = topic.entity.flatMap { CommandTopic.isID($0) ? $0 : nil }
            publish(
                CommandResult(device: topic.device, entity: entity, failure: failure, transaction: transaction),
                resultTopic: false, responseTopic: responseTopic, correlationData: message.correlationData)
            return true
        }
        switch parsed {
        case .success(let requests):
            for request in requests { enqueue(request) }
        case .failure(let failure):
            logger.info(
                "Command refused",
                metadata: [
                    "device.id": "\(topic.device)", "entity.id": "\(LogText.escaped(topic.entity ?? "-"))",
                    "error": "\(LogText.escaped(failure.message, limit: 300))", "error_code": "\(failure.code.rawValue)",
                ])
            publish(
                CommandResult(device: topic.device, entity: topic.entity, failure: failure, transaction: transaction),
                responseTopic: responseTopic, correlationData: message.correlationData)
        }
        return true
    }

    /// The message's MQTT 5 response topic when the bridge may answer on it; a refused one is logged.
    private func acceptedResponseTopic(of message: InboundMessage) -> String? {
        guard let responseTopic = message.responseTopic, !responseTopic.isEmpty else { return nil }
        if let reason = responseTopics.refusal(of: responseTopic) {
            logger.warning(
                "Refused a command's MQTT 5 response topic; the result goes to the device's result topic only",
                metadata: [
                    "mqtt.topic": "\(LogText.escaped(message.topic))", "mqtt.response_topic": "\(LogText.escaped(responseTopic))",
                    "reason": "\(LogText.escaped(reason))",
                ])
            return nil
        }
        return responseTopic
    }

    /// Waits for queued and running commands (graceful shutdown), at most `timeout`.
    public func drain(timeout: Duration) async {
        let pending = Array(tails.values)
        await withDeadline(timeout, fallback: ()) { for task in pending { await task.value } }
    }

    private func enqueue(_ request: CommandRequest) {
        let previous = tails[request.device]
        // One task per command, chained per device. Every path inside publishes exactly one result.
        tails[request.device] = Task {
            await previous?.value
            await self.run(request)
        }
    }

    private func run(_ request: CommandRequest) async {
        var result = CommandResult(device: request.device, entity: request.entity, transaction: request.transaction)
        do throws(CommandFailure) {
            result.httpStatus = try await execute(request)
        } catch {
            result.failure = error
        }
        let entity = LogText.escaped(request.entity)
        if let failure = result.failure {
            logger.info(
                "Command failed",
                metadata: [
                    "device.id": "\(request.device)", "entity.id": "\(entity)", "error": "\(LogText.escaped(failure.message, limit: 300))",
                    "error_code": "\(failure.code.rawValue)",
                ])
        } else {
            logger.debug("Command handled", metadata: ["device.id": "\(request.device)", "entity.id": "\(entity)"])
        }
        publish(result, responseTopic: request.responseTopic, correlationData: request.correlationData)
    }

    /// Validates and runs one command. Returns the HTTP status of the source's answer.
    private func execute(_ request: CommandRequest) async throws(CommandFailure) -> Int? {
        if let local = local[request.device] {
            guard let validation = local.commands[request.entity] else {
                throw CommandFailure(.unknownEntity, "device '\(request.device)' has no command \(Self.quoted(request.entity))")
            }
            let checked = request.plainText.map(validation.validate(text:)) ?? validation.validate(request.value)
            let value: JSONValue
            switch checked {
            case .success(let valid): value = valid
            case .failure(let failure): throw CommandFailure(.invalidValue, "\(request.entity): \(failure.message)")
            }
            // Bounded like source calls: a bridge-device handler that hangs still yields one result.
            let handler = local.handler
            let entity = request.entity
            return try await withTimeout { () async throws(CommandFailure) -> Int? in
                try await handler(entity, value)
                return nil
            }
        }
        guard let (route, childID) = route(for: request.device) else {
            throw CommandFailure(.unknownDevice, "no configured source owns device '\(request.device)'")
        }
        let bridge = route.bridge
        var childKey: JSONValue?
        var childKind: String?
        if let childID {
            guard let child = await bridge.child(childID) else {
                throw CommandFailure(.unknownDevice, "device '\(request.device)' is not (or no longer) known")
            }
            childKey = child.key
            childKind = child.kind
        }
        // A source whose mapping has no commands at all (an API without write calls) rejects
        // every command as not supported, whatever entity it names.
        guard bridge.mapping.commands.contains(where: \.enabled) else {
            throw CommandFailure(.notSupported, "source '\(bridge.deviceID)' accepts no commands: its API is read-only; nothing was sent")
        }
        guard let command = bridge.mapping.commands.first(where: { $0.id == request.entity && $0.enabled && $0.child?.kind == childKind })
        else {
            throw CommandFailure(.unknownEntity, "device '\(request.device)' has no command \(Self.quoted(request.entity))")
        }
        if bridge.configuration.readOnly {
            throw CommandFailure(.readOnly, "source '\(bridge.deviceID)' is read-only")
        }
        let value: JSONValue
        switch request.plainText.map(command.prepare(text:)) ?? command.prepare(request.value) {
        case .success(let prepared): value = prepared
        case .failure(let failure): throw CommandFailure(.invalidValue, "\(request.entity): \(failure.message)")
        }
        guard await route.executor.isAvailable else {
            throw CommandFailure(.sourceUnavailable, "source '\(bridge.deviceID)' is offline; nothing was sent")
        }
        guard let target = command.target else {
            throw CommandFailure(.internalError, "command '\(command.id)' has neither call nor action")
        }
        let key = childKey
        let status = try await withTimeout { () async throws(CommandFailure) -> Int? in
            switch target {
            case .call(let call):
                return try await route.executor.execute(call.rendered(value: value, childKey: key))
            case .action(let name):
                return try await route.executor.perform(action: name, value: value, childKey: key)
            }
        }
        var endpoints: Set<String> = []
        if let state = command.state { endpoints.insert(state.endpoint) }
        if let entity = bridge.mapping.entity(command.id) { endpoints.formUnion(entity.sources.map(\.endpoint)) }
        await route.executor.refresh(endpoints: endpoints)
        return status
    }

    private func withTimeout(_ operation: @escaping @Sendable () async throws(CommandFailure) -> Int?) async throws(CommandFailure) -> Int? {
        let timeout = commandTimeout
        let expired = Result<Int?, CommandFailure>.failure(CommandFailure(.timeout, "no answer within \(timeout)"))
        let outcome = await withDeadline(timeout, fallback: expired) { () async -> Result<Int?, CommandFailure> in
            do throws(CommandFailure) { return .success(try await operation()) } catch { return .failure(error) }
        }
        return try outcome.get()
    }

    /// The route owning `device` (the source's own id, or `<source id>_<child>`), longest id first.
    private func route(for device: String) -> (route: Route, childID: String?)? {
        if let route = routes[device] { return (route, nil) }
        let owner = routes.keys.filter { device.hasPrefix($0 + "_") }.max { $0.count < $1.count }
        guard let owner, let route = routes[owner] else { return nil }
        return (route, String(device.dropFirst(owner.count + 1)))
    }

    /// Publishes a result on `<base>/<device>/result` (unless `resultTopic` is false) and on the
    /// accepted MQTT 5 response topic.
    private func publish(_ result: CommandResult, resultTopic: Bool = true, responseTopic: String?, correlationData: [UInt8]?) {
        let payload = result.payload
        var messages: [OutboundMessage] = []
        if resultTopic { messages.append(OutboundMessage(topic: "\(base)/\(result.device)/result", payload: payload, qos: 1)) }
        if let responseTopic {
            messages.append(
                OutboundMessage(
                    topic: responseTopic, payload: payload, qos: 1, correlationData: correlationData,
                    contentType: "application/json"))
        }
        for message in messages {
            do {
                try broker.enqueue(message)
            } catch {
                logger.warning(
                    "Could not publish a command result",
                    metadata: ["mqtt.topic": "\(LogText.escaped(message.topic))", "error": "\(LogText.escaped("\(error)"))"])
            }
        }
    }

    /// An id from outside as an error message quotes it: escaped, cut at 64 characters.
    static func quoted(_ text: String) -> String { "'" + LogText.escaped(text, limit: 64) + "'" }

    /// Reads the commands a message carries, and its transaction (also for an error result).
    static func requests(
        from message: InboundMessage, topic: CommandTopic, responseTopic: String?
    ) -> (Result<[CommandRequest], CommandFailure>, CommandTransaction?) {
        let text: String
        switch CommandPayload.text(of: message.payload) {
        case .success(let valid): text = valid.trimmingWhitespace(newlines: true)
        case .failure(let failure): return (.failure(failure), nil)
        }
        let bytes = Array(text.utf8)
        let parsed = text.first == "{" ? try? JSONValue.parse(bytes) : nil
        func request(_ entity: String, _ value: JSONValue, plainText: String? = nil, _ transaction: CommandTransaction?) -> CommandRequest {
            CommandRequest(
                device: topic.device, entity: entity, value: value, plainText: plainText, transaction: transaction,
                responseTopic: responseTopic, correlationData: message.correlationData)
        }
        if let entity = topic.entity {
            guard !text.isEmpty else { return (.failure(CommandFailure(.invalidPayload, "empty command payload")), nil) }
            if case .object(let object) = parsed, let value = object["value"] {
                let transaction = CommandTransaction.member(of: bytes, parsed: parsed)
                return (.success([request(entity, value, transaction)]), transaction)
            }
            return (.success([request(entity, JSONValue(mqttPayload: text), plainText: text, nil)]), nil)
        }
        guard case .object(var object) = parsed else {
            return (.failure(CommandFailure(.invalidPayload, "expected a JSON object like {\"<entity>\": value}")), nil)
        }
        let transaction = CommandTransaction.member(of: bytes, parsed: parsed)
        object.removeValue(forKey: "transaction")
        guard !object.isEmpty else { return (.failure(CommandFailure(.invalidPayload, "no entity in the command")), transaction) }
        guard object.count <= CommandPayload.maxEntities else {
            return (
                .failure(CommandFailure(.invalidPayload, "\(object.count) entities in one command; at most \(CommandPayload.maxEntities)")),
                transaction
            )
        }
        return (.success(object.keys.sorted().map { request($0, object[$0, default: .null], transaction) }), transaction)
    }
}
