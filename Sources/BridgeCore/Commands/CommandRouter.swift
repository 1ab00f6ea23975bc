import Foundation
import Logging
import Synchronization

/// Turns MQTT commands into source calls, and answers every command with exactly one result.
///
/// Contract (design.md): a command is validated against the mapping before any call; a bad one
/// gets an error result and makes no call. Commands to one device run one after another; different
/// devices run concurrently. Retained commands are ignored (logged) unless the source sets
/// `accept_retained_commands`, so a retained `restart` does not fire again at every reconnect.
/// After a successful command the source re-reads the affected state.
public actor CommandRouter {
    /// A source the router can send commands to.
    public struct Route: Sendable {
        public var bridge: SourceBridge
        public var executor: any CommandExecutor

        public init(bridge: SourceBridge, executor: any CommandExecutor) {
            self.bridge = bridge
            self.executor = executor
        }
    }

    /// Commands for a device the bridge implements itself (its own Home Assistant device).
    public typealias LocalHandler = @Sendable (_ entity: String, _ value: JSONValue) async throws(CommandFailure) -> Void

    private let base: String
    private let broker: any BrokerConnection
    private let logger: Logger
    private let commandTimeout: Duration
    private var routes: [String: Route] = [:]
    private var local: [String: (entities: Set<String>, handler: LocalHandler)] = [:]
    /// The last queued command per device: the next one waits for it (per-device serialisation).
    private var tails: [String: Task<Void, Never>] = [:]

    public init(base: String, broker: any BrokerConnection, commandTimeout: Duration = .seconds(30), logger: Logger) {
        self.base = base
        self.broker = broker
        self.commandTimeout = commandTimeout
        self.logger = logger
    }

    public func register(_ route: Route) {
        routes[route.bridge.deviceID] = route
    }

    public func registerLocal(device: String, entities: Set<String>, handler: @escaping LocalHandler) {
        local[device] = (entities, handler)
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
                metadata: ["mqtt.topic": "\(message.topic)"])
            return true
        }
        let requests: [CommandRequest]
        switch Self.requests(from: message, topic: topic) {
        case .success(let parsed):
            requests = parsed
        case .failure(let failure):
            publish(
                CommandResult(device: topic.device, entity: topic.entity, failure: failure, transaction: Self.transaction(of: message)),
                responseTopic: message.responseTopic, correlationData: message.correlationData)
            return true
        }
        for request in requests { enqueue(request) }
        return true
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
        if let failure = result.failure {
            logger.info(
                "Command failed",
                metadata: [
                    "device.id": "\(request.device)", "entity.id": "\(request.entity)", "error": "\(failure.message)",
                    "error_code": "\(failure.code.rawValue)",
                ])
        } else {
            logger.debug("Command handled", metadata: ["device.id": "\(request.device)", "entity.id": "\(request.entity)"])
        }
        publish(result, responseTopic: request.responseTopic, correlationData: request.correlationData)
    }

    /// Validates and runs one command. Returns the HTTP status of the source's answer.
    private func execute(_ request: CommandRequest) async throws(CommandFailure) -> Int? {
        if let local = local[request.device] {
            guard local.entities.contains(request.entity) else {
                throw CommandFailure(.unknownEntity, "device '\(request.device)' has no command '\(request.entity)'")
            }
            // Bounded like source calls: a bridge-device handler that hangs still yields one result.
            let handler = local.handler
            let entity = request.entity
            let value = request.value
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
        guard let command = bridge.mapping.commands.first(where: { $0.id == request.entity && $0.enabled && $0.child?.kind == childKind })
        else {
            throw CommandFailure(.unknownEntity, "device '\(request.device)' has no command '\(request.entity)'")
        }
        if bridge.configuration.readOnly {
            throw CommandFailure(.readOnly, "source '\(bridge.deviceID)' is read-only")
        }
        let value: JSONValue
        switch command.prepare(request.value) {
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

    private func publish(_ result: CommandResult, responseTopic: String?, correlationData: [UInt8]?) {
        let payload = result.json.jsonBytes
        var messages = [OutboundMessage(topic: "\(base)/\(result.device)/result", payload: payload, qos: 1)]
        if let responseTopic, !responseTopic.isEmpty {
            messages.append(
                OutboundMessage(
                    topic: responseTopic, payload: payload, qos: 1, correlationData: correlationData,
                    contentType: "application/json"))
        }
        for message in messages {
            do {
                try broker.enqueue(message)
            } catch {
                logger.warning("Could not publish a command result", metadata: ["mqtt.topic": "\(message.topic)", "error": "\(error)"])
            }
        }
    }

    /// The `transaction` of a payload that could not become a command, so its error result echoes it too.
    static func transaction(of message: InboundMessage) -> JSONValue? {
        guard case .object(let object)? = try? JSONValue.parse(message.payload) else { return nil }
        return object["transaction"]
    }

    /// Reads the commands a message carries.
    static func requests(from message: InboundMessage, topic: CommandTopic) -> Result<[CommandRequest], CommandFailure> {
        let text = message.payloadString.trimmingCharacters(in: .whitespacesAndNewlines)
        func request(_ entity: String, _ value: JSONValue, _ transaction: JSONValue?) -> CommandRequest {
            CommandRequest(
                device: topic.device, entity: entity, value: value, transaction: transaction,
                responseTopic: message.responseTopic, correlationData: message.correlationData)
        }
        if let entity = topic.entity {
            guard !text.isEmpty else { return .failure(CommandFailure(.invalidPayload, "empty command payload")) }
            let parsed = JSONValue(mqttPayload: text)
            if case .object(var object) = parsed, let value = object.removeValue(forKey: "value") {
                return .success([request(entity, value, object["transaction"])])
            }
            return .success([request(entity, parsed, nil)])
        }
        guard case .object(var object)? = try? JSONValue.parse(Array(text.utf8)) else {
            return .failure(CommandFailure(.invalidPayload, "expected a JSON object like {\"<entity>\": value}"))
        }
        let transaction = object.removeValue(forKey: "transaction")
        guard !object.isEmpty else { return .failure(CommandFailure(.invalidPayload, "no entity in the command")) }
        return .success(object.keys.sorted().map { request($0, object[$0, default: .null], transaction) })
    }
}
