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
    private let clock: any Clock<Duration>
    private var routes: [String: Route] = [:]
    private var local: [String: (commands: [String: CommandValidation], handler: LocalHandler)] = [:]
    /// Commands received and not started yet, per device, oldest first (per-device serialisation).
    private var waiting: [String: [CommandRequest]] = [:]
    /// The one command running per device, by a number of its own: its outcome is published only
    /// while it is still here (at shutdown an overdue one is answered and removed, and its late
    /// outcome is then dropped, so no command gets two results).
    private var running: [String: (number: UInt64, request: CommandRequest)] = [:]
    private var nextNumber: UInt64 = 0
    /// Set by ``shutDown(inFlightDeadline:)``: nothing starts any more.
    private var stopping = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// What happened to every command so far (logged at exit).
    public private(set) var counts = CommandCounts()
    /// Set when another bridge instance was seen publishing under this base topic: a command to
    /// a device no route owns may be the other's, so it is left unanswered (logged) instead of
    /// answered `unknown_device`.
    private var sharesBase = false

    /// - Parameter discoveryPrefix: Home Assistant's discovery prefix: no response topic inside it
    ///   is answered on (nor inside `<base>/`).
    /// - Parameter clock: measures the command timeout and the shutdown deadline (tests pass a
    ///   manual clock).
    public init(
        base: String, broker: any BrokerConnection, commandTimeout: Duration = .seconds(30),
        discoveryPrefix: String? = HomeAssistantSettings.defaultDiscoveryPrefix, clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) {
        self.base = base
        self.responseTopics = ResponseTopic(base: base, discoveryPrefix: discoveryPrefix)
        self.broker = broker
        self.commandTimeout = commandTimeout
        self.clock = clock
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

    /// Another instance publishes under this base topic (a misconfiguration the bridge logs):
    /// from now on a command to a device this bridge does not own is left to the other.
    public func setSharesBase() {
        sharesBase = true
    }

    /// Whether a route or the bridge's own device owns `device` (a child of a route included).
    private func owns(_ device: String) -> Bool {
        local[device] != nil || route(for: device) != nil
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
            counts.ignoredRetained += 1
            return true
        }
        let responseTopic = acceptedResponseTopic(of: message)
        let (parsed, transaction) = Self.requests(from: message, topic: topic, responseTopic: responseTopic)
        guard topic.hasDeviceID else {
            counts.received += 1
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
        if sharesBase, !owns(topic.device) {
            counts.leftToOtherInstance += 1
            logger.info(
                "Left a command to a device this bridge does not own unanswered: another instance shares the base topic",
                metadata: ["mqtt.topic": "\(LogText.escaped(message.topic))"])
            return true
        }
        switch parsed {
        case .success(let requests):
            counts.received += requests.count
            for request in requests { enqueue(request) }
        case .failure(let failure):
            counts.received += 1
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

    /// Waits until no command is waiting or running, at most `timeout` (tests; the bridge's
    /// shutdown uses ``shutDown(inFlightDeadline:)``).
    public func drain(timeout: Duration) async {
        await withDeadline(timeout, clock: clock, fallback: ()) { await self.waitUntilIdle() }
    }

    /// The bounded shutdown rule (SIGTERM): stop taking commands, answer every command not
    /// started yet with `shutting_down` (nothing was sent), give the calls in flight up to
    /// `inFlightDeadline` to finish (their real result is published), then answer each call still
    /// running with `timeout` ("outcome unknown": it was sent); its late outcome is dropped.
    ///
    /// The command filters are unsubscribed first; a command that still arrives (the broker had
    /// already sent it) is answered `shutting_down` at once while the connection lasts.
    public func shutDown(inFlightDeadline: Duration) async {
        guard !stopping else { return }
        stopping = true
        for filter in CommandTopic.filters(base: base) { broker.unsubscribe(filter) }
        let notStarted = waiting.values.flatMap { $0 }
        waiting.removeAll()
        for request in notStarted { answerShuttingDown(request) }
        if !running.isEmpty {
            logger.notice(
                "Shutting down: waiting for commands in flight",
                metadata: ["commands": "\(running.count)", "deadline": "\(inFlightDeadline)"])
            await withDeadline(inFlightDeadline, clock: clock, fallback: ()) { await self.waitUntilIdle() }
        }
        let overdue = running.values.sorted { $0.number < $1.number }
        running.removeAll()
        for (_, request) in overdue {
            let failure = CommandFailure(
                .timeout,
                "the bridge is shutting down and the call did not answer within \(inFlightDeadline): it was sent, its outcome is unknown")
            finish(CommandResult(device: request.device, entity: request.entity, failure: failure, transaction: request.transaction), of: request)
        }
        resumeIdleWaiters()
        logger.notice(
            "Stopped taking commands",
            metadata: [
                "not_started": "\(notStarted.count)", "overdue": "\(overdue.count)",
            ])
    }

    /// Returns when no command is waiting or running.
    private func waitUntilIdle() async {
        if isIdle { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private var isIdle: Bool { running.isEmpty && waiting.values.allSatisfy(\.isEmpty) }

    private func resumeIdleWaiters() {
        guard isIdle else { return }
        let waiters = idleWaiters
        idleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    private func enqueue(_ request: CommandRequest) {
        if stopping {
            answerShuttingDown(request)
            return
        }
        waiting[request.device, default: []].append(request)
        startNext(on: request.device)
    }

    /// Starts the oldest waiting command of `device` unless one is running there or the router is stopping.
    private func startNext(on device: String) {
        guard !stopping, running[device] == nil, var queue = waiting[device], !queue.isEmpty else { return }
        let request = queue.removeFirst()
        waiting[device] = queue.isEmpty ? nil : queue
        nextNumber += 1
        let number = nextNumber
        running[device] = (number, request)
        Task {
            let result = await self.run(request)
            self.completed(number, on: device, result: result)
        }
    }

    /// A started command ended: its result is published unless shutdown already answered it.
    private func completed(_ number: UInt64, on device: String, result: CommandResult) {
        guard running[device]?.number == number, let request = running.removeValue(forKey: device)?.request else {
            counts.lateOutcomes += 1
            logger.notice(
                "A command's call ended after the shutdown deadline; its result was already published",
                metadata: ["device.id": "\(device)", "entity.id": "\(LogText.escaped(result.entity ?? "-"))"])
            return
        }
        finish(result, of: request)
        startNext(on: device)
        resumeIdleWaiters()
    }

    private func answerShuttingDown(_ request: CommandRequest) {
        let failure = CommandFailure(.shuttingDown, "the bridge is shutting down: the command was not started and nothing was sent")
        finish(
            CommandResult(device: request.device, entity: request.entity, failure: failure, transaction: request.transaction),
            of: request)
    }

    /// Logs a command's end and publishes its one result.
    private func finish(_ result: CommandResult, of request: CommandRequest) {
        let entity = LogText.escaped(request.entity)
        if let failure = result.failure {
            if failure.code != .shuttingDown {
                logger.info(
                    "Command failed",
                    metadata: [
                        "device.id": "\(request.device)", "entity.id": "\(entity)", "error": "\(LogText.escaped(failure.message, limit: 300))",
                        "error_code": "\(failure.code.rawValue)",
                    ])
            }
        } else {
            logger.debug("Command handled", metadata: ["device.id": "\(request.device)", "entity.id": "\(entity)"])
        }
        publish(result, responseTopic: request.responseTopic, correlationData: request.correlationData)
    }

    /// Runs one command to its result (not published here).
    private func run(_ request: CommandRequest) async -> CommandResult {
        var result = CommandResult(device: request.device, entity: request.entity, transaction: request.transaction)
        do throws(CommandFailure) {
            result.httpStatus = try await execute(request)
        } catch {
            result.failure = error
        }
        return result
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
        let outcome = await withDeadline(timeout, clock: clock, fallback: expired) { () async -> Result<Int?, CommandFailure> in
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
        var handedOver = false
        for message in messages {
            do {
                try broker.enqueue(message)
                handedOver = true
            } catch {
                logger.warning(
                    "Could not publish a command result",
                    metadata: ["mqtt.topic": "\(LogText.escaped(message.topic))", "error": "\(LogText.escaped("\(error)"))"])
            }
        }
        counts.count(result.failure?.code, published: handedOver, addressed: !messages.isEmpty)
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
