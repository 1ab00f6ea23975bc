import BridgeCore
import Logging
import Synchronization
import TestSupport
import Testing

/// A router with sources `han` (a working executor, children `a` and `b` known), `ro`
/// (read-only), `off` (executor unavailable) and `bad` (executor failing with HTTP 500), all on
/// one in-memory broker.
struct RouterHarness {
    let broker = InMemoryBroker()
    let router: CommandRouter
    let han: FakeCommandExecutor
    let others: [FakeCommandExecutor]

    init(
        commandTimeout: Duration = .seconds(30), han: FakeCommandExecutor = FakeCommandExecutor(),
        hanSource: SourceConfiguration = CoreTestSupport.source(), hanMapping: MappingFile? = nil,
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger = CoreTestSupport.logger
    ) async throws {
        router = CommandRouter(
            base: CoreTestSupport.base, broker: broker, commandTimeout: commandTimeout, clock: clock, logger: logger)
        self.han = han
        let hanBridge = try BridgeHarness(source: hanSource, mapping: hanMapping, broker: broker)
        await hanBridge.ingest("points", #"{"connectors": [{"id": "A"}, {"id": "B"}]}"#)
        await router.register(CommandRouter.Route(bridge: hanBridge.bridge, executor: han))

        let readOnly = FakeCommandExecutor(name: "ro")
        let offline = FakeCommandExecutor(name: "off", available: false)
        let failing = FakeCommandExecutor(
            name: "bad", behaviour: .fail(CommandFailure(.callFailed, "HTTP 500 from the source", httpStatus: 500)))
        others = [readOnly, offline, failing]
        for (source, executor) in [
            (CoreTestSupport.source(id: "ro", readOnly: true), readOnly), (CoreTestSupport.source(id: "off"), offline),
            (CoreTestSupport.source(id: "bad"), failing),
        ] {
            let bridge = try BridgeHarness(source: source, broker: broker).bridge
            await router.register(CommandRouter.Route(bridge: bridge, executor: executor))
        }
        broker.clearPublished()
    }

    /// Delivers a command as the broker would.
    @discardableResult
    func send(
        _ topic: String, _ payload: String, retain: Bool = false, responseTopic: String? = nil,
        correlationData: [UInt8]? = nil
    ) async -> Bool {
        await router.handle(
            InboundMessage(
                topic: topic, payload: Array(payload.utf8), retain: retain, responseTopic: responseTopic,
                correlationData: correlationData))
    }

    /// Delivers a command whose payload is raw bytes (invalid UTF-8, embedded NUL).
    @discardableResult
    func send(_ topic: String, bytes: [UInt8], responseTopic: String? = nil) async -> Bool {
        await router.handle(InboundMessage(topic: topic, payload: bytes, responseTopic: responseTopic))
    }

    /// Waits for every queued command to finish (no fixed sleep: returns as soon as they are done).
    func settle() async { await router.drain(timeout: .seconds(10)) }

    /// The result messages of one device.
    func resultMessages(_ device: String) -> [OutboundMessage] { broker.published(on: "api2mqtt/\(device)/result") }

    /// The parsed results of one device.
    func results(_ device: String) -> [JSONValue] { resultMessages(device).compactMap(CoreTestSupport.parse) }

    /// Every result published, on any device.
    var allResults: [OutboundMessage] { broker.published.filter { $0.topic.hasSuffix("/result") } }

    /// Calls and actions made on every executor.
    func totalCalls() async -> Int {
        var total = await han.callCount
        for executor in others { total += await executor.callCount }
        return total
    }
}

/// One command that must fail with an error code and make no call (unless `makesCall`).
struct FailingCommand: Sendable, CustomTestStringConvertible {
    var code: String
    var topic: String
    var payload: String
    var device: String
    var entity: String?
    var transaction: JSONValue?
    var makesCall = false
    var httpStatus: Int?

    var testDescription: String { "\(code): \(topic) \(payload)" }
}

@Suite("CommandRouter")
struct CommandRouterTests {
    static let failures: [FailingCommand] = [
        FailingCommand(code: "unknown_device", topic: "api2mqtt/nosuch/fuse/set", payload: "20", device: "nosuch", entity: "fuse"),
        FailingCommand(code: "unknown_device", topic: "api2mqtt/han_z/unlock/set", payload: "PRESS", device: "han_z", entity: "unlock"),
        FailingCommand(code: "unknown_entity", topic: "api2mqtt/han/nope/set", payload: "1", device: "han", entity: "nope"),
        FailingCommand(code: "unknown_entity", topic: "api2mqtt/han/power/set", payload: "1", device: "han", entity: "power"),
        FailingCommand(code: "unknown_entity", topic: "api2mqtt/han/unlock/set", payload: "PRESS", device: "han", entity: "unlock"),
        FailingCommand(code: "invalid_payload", topic: "api2mqtt/han/set", payload: "not json", device: "han"),
        FailingCommand(code: "invalid_payload", topic: "api2mqtt/han/set", payload: "[1, 2]", device: "han"),
        FailingCommand(code: "invalid_payload", topic: "api2mqtt/han/fuse/set", payload: " ", device: "han", entity: "fuse"),
        FailingCommand(
            code: "invalid_payload", topic: "api2mqtt/han/set", payload: #"{"transaction": "t-empty"}"#, device: "han",
            transaction: "t-empty"),
        FailingCommand(
            code: "invalid_value", topic: "api2mqtt/han/fuse/set", payload: #"{"value": 100, "transaction": "t-range"}"#,
            device: "han", entity: "fuse", transaction: "t-range"),
        FailingCommand(code: "invalid_value", topic: "api2mqtt/han/fuse/set", payload: "abc", device: "han", entity: "fuse"),
        FailingCommand(code: "invalid_value", topic: "api2mqtt/han/mode/set", payload: "Turbo", device: "han", entity: "mode"),
        FailingCommand(
            code: "read_only", topic: "api2mqtt/ro/fuse/set", payload: #"{"value": 20, "transaction": 9}"#, device: "ro",
            entity: "fuse", transaction: 9),
        FailingCommand(code: "source_unavailable", topic: "api2mqtt/off/fuse/set", payload: "20", device: "off", entity: "fuse"),
        FailingCommand(
            code: "call_failed", topic: "api2mqtt/bad/fuse/set", payload: #"{"value": 20, "transaction": "t-500"}"#,
            device: "bad", entity: "fuse", transaction: "t-500", makesCall: true, httpStatus: 500),
    ]

    @Test("every failure gets exactly one error result with its code; only a call that was made fails after calling", arguments: failures)
    func errorCodes(_ command: FailingCommand) async throws {
        let harness = try await RouterHarness()
        #expect(await harness.send(command.topic, command.payload))
        await harness.settle()

        #expect(harness.allResults.count == 1)
        let result = try #require(harness.results(command.device).first)
        #expect(result["status"] == "error")
        #expect(result["error_code"] == .string(command.code))
        #expect(result["error"]?.stringValue?.isEmpty == false)
        #expect(result["entity"] == command.entity.map(JSONValue.string))
        #expect(result["transaction"] == command.transaction)
        #expect(result["http_status"] == command.httpStatus.map { .number(Double($0)) })
        #expect(await harness.totalCalls() == (command.makesCall ? 1 : 0), "validation failures make no call")
        #expect(await harness.han.refreshes.isEmpty)
    }

    @Test("a source whose mapping has no commands (a read-only API) answers not_supported for any entity and calls nothing")
    func noCommandsAtAll() async throws {
        let mapping = try MappingLoader.load(
            yaml: """
                source: fritz_network
                entities:
                  - id: power
                    from: { endpoint: points, path: power }
                    device_class: power
                """, file: "read-only.yaml")
        let harness = try await RouterHarness(hanMapping: mapping)
        await harness.send("api2mqtt/han/power/set", #"{"value": 1, "transaction": "r-1"}"#)
        await harness.send("api2mqtt/han/anything/set", "ON")
        await harness.settle()
        let results = harness.results("han")
        #expect(results.count == 2)
        #expect(results.allSatisfy { $0["error_code"] == "not_supported" })
        #expect(results.first?["transaction"] == "r-1")
        #expect(await harness.totalCalls() == 0)
    }

    @Test("a valid command calls the source once, answers ok with the transaction, and re-reads the state endpoint")
    func success() async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/han/fuse/set", #"{"value": 20, "transaction": "t-1"}"#)
        await harness.settle()

        #expect(await harness.han.calls == [RenderedCall(method: "POST", path: "/configuration", body: ["f": 20])])
        #expect(await harness.han.refreshes == [["config"]])
        let messages = harness.resultMessages("han")
        #expect(messages.count == 1)
        #expect(messages.first?.retain == false)
        #expect(messages.first?.qos == 1)
        #expect(harness.results("han") == [["entity": "fuse", "status": "ok", "transaction": "t-1", "http_status": 200]])
    }

    @Test("a plain value works without a transaction; a select's command re-reads its state: endpoint")
    func plainValue() async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/han/fuse/set", "21")
        await harness.send("api2mqtt/han/mode/set", "Fast")
        await harness.settle()
        #expect(
            await harness.han.calls == [
                RenderedCall(method: "POST", path: "/configuration", body: ["f": 21]),
                RenderedCall(method: "POST", path: "/mode", body: ["m": "Fast"]),
            ])
        #expect(await harness.han.refreshes == [["config"], ["config"]])
        #expect(
            harness.results("han") == [
                ["entity": "fuse", "status": "ok", "http_status": 200], ["entity": "mode", "status": "ok", "http_status": 200],
            ])
    }

    @Test("with MQTT 5 the same result also goes to the response topic with the correlation data")
    func responseTopic() async throws {
        let harness = try await RouterHarness()
        await harness.send(
            "api2mqtt/han/fuse/set", #"{"value": 20, "transaction": "t-2"}"#, responseTopic: "client/42/reply",
            correlationData: [1, 2, 3])
        await harness.send("api2mqtt/han/fuse/set", "500", responseTopic: "client/42/reply", correlationData: [4])
        await harness.settle()

        let results = harness.resultMessages("han")
        let replies = harness.broker.published(on: "client/42/reply")
        #expect(results.count == 2)
        #expect(replies.count == 2)
        #expect(replies.map(\.payload) == results.map(\.payload))
        #expect(replies.map(\.correlationData) == [[1, 2, 3], [4]])
        #expect(replies.allSatisfy { $0.contentType == "application/json" && !$0.retain })
        #expect(CoreTestSupport.parse(replies[0])?["transaction"] == "t-2")
        #expect(CoreTestSupport.parse(replies[1])?["error_code"] == "invalid_value")
    }

    @Test("a validation failure answered before queueing also goes to the response topic")
    func responseTopicForUnreadablePayload() async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/han/set", "{", responseTopic: "client/reply", correlationData: [9])
        await harness.settle()
        let reply = try #require(harness.broker.published(on: "client/reply").first)
        #expect(reply.correlationData == [9])
        #expect(CoreTestSupport.parse(reply)?["error_code"] == "invalid_payload")
        #expect(harness.resultMessages("han").count == 1)
    }

    @Test("device-level <device>/set with two entities gives two results with the shared transaction")
    func deviceLevel() async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/han/set", #"{"fuse": 20, "mode": "Eco", "transaction": 7}"#)
        await harness.settle()
        #expect(
            harness.results("han") == [
                ["entity": "fuse", "status": "ok", "transaction": 7, "http_status": 200],
                ["entity": "mode", "status": "ok", "transaction": 7, "http_status": 200],
            ])
        #expect(await harness.han.calls.count == 2)
    }

    @Test("device-level set: a bad entity fails alone, the good one still runs")
    func deviceLevelPartial() async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/han/set", #"{"fuse": 100, "mode": "Eco", "transaction": "x"}"#)
        await harness.settle()
        let results = harness.results("han")
        #expect(results.count == 2)
        #expect(results.first { $0["entity"] == "fuse" }?["error_code"] == "invalid_value")
        #expect(results.first { $0["entity"] == "mode" }?["status"] == "ok")
        #expect(results.allSatisfy { $0["transaction"] == "x" })
        #expect(await harness.han.calls == [RenderedCall(method: "POST", path: "/mode", body: ["m": "Eco"])])
    }

    @Test("retained commands are ignored: no call, no result")
    func retainedIgnored() async throws {
        let harness = try await RouterHarness()
        #expect(await harness.send("api2mqtt/han/fuse/set", "20", retain: true))
        #expect(await harness.send("api2mqtt/han/set", #"{"fuse": 20}"#, retain: true))
        #expect(await harness.send("api2mqtt/han/restart/set", "PRESS", retain: true))
        #expect(await harness.send("api2mqtt/han/set", "not json", retain: true))
        #expect(await harness.send("api2mqtt/nosuch/fuse/set", "20", retain: true))
        await harness.settle()
        #expect(harness.allResults.isEmpty)
        #expect(await harness.totalCalls() == 0)
    }

    @Test("accept_retained_commands: a retained command runs")
    func retainedAccepted() async throws {
        let harness = try await RouterHarness(hanSource: CoreTestSupport.source(acceptRetainedCommands: true))
        await harness.send("api2mqtt/han/fuse/set", "20", retain: true)
        await harness.settle()
        #expect(await harness.han.calls.count == 1)
        #expect(harness.results("han").map { $0["status"] } == ["ok"])
    }

    @Test("a child device's command renders the child's own API id and answers on the child's result topic")
    func childCommand() async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/han_a/unlock/set", "PRESS")
        await harness.settle()
        #expect(await harness.han.calls == [RenderedCall(method: "POST", path: "/connectors/A/unlock")])
        #expect(harness.results("han_a") == [["entity": "unlock", "status": "ok", "http_status": 200]])
        #expect(harness.results("han").isEmpty)
    }

    @Test("an action command runs the adapter's named action")
    func action() async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/han/restart/set", "PRESS")
        await harness.settle()
        #expect(await harness.han.actions == [FakeCommandExecutor.Action(name: "restart_reader", value: "PRESS", childKey: nil)])
        #expect(harness.results("han").map { $0["status"] } == ["ok"])
    }

    @Test("a call that does not answer within commandTimeout gets one timeout result")
    func timeout() async throws {
        let harness = try await RouterHarness(commandTimeout: .milliseconds(50), han: FakeCommandExecutor(behaviour: .hang))
        await harness.send("api2mqtt/han/fuse/set", #"{"value": 20, "transaction": "slow"}"#)
        await harness.settle()
        let results = harness.results("han")
        #expect(results.count == 1)
        #expect(results.first?["error_code"] == "timeout")
        #expect(results.first?["status"] == "error")
        #expect(results.first?["transaction"] == "slow")
        #expect(await harness.han.calls.count == 1)
        #expect(await harness.han.refreshes.isEmpty)
    }

    @Test("the timeout result does not wait for a call that ignores cancellation")
    func timeoutWithStuckCall() async throws {
        let gate = Gate()
        let harness = try await RouterHarness(commandTimeout: .milliseconds(50), han: FakeCommandExecutor(behaviour: .hold(gate)))
        await harness.send("api2mqtt/han/fuse/set", "20")
        // Answers after the 50 ms command timeout; the bound only matters when it never does.
        let answered = await CoreTestSupport.spin(upTo: .seconds(60)) { !harness.results("han").isEmpty }
        #expect(answered, "the timeout result is published although the call is still stuck")
        #expect(harness.results("han").map { $0["error_code"] } == ["timeout"])

        await gate.open()
        await harness.settle()
        #expect(harness.resultMessages("han").count == 1, "exactly one result, even when the call answers late")
    }

    @Test("a bridge-device handler that hangs gets one timeout result too")
    func localHandlerTimeout() async throws {
        let harness = try await RouterHarness(commandTimeout: .milliseconds(50))
        let gate = Gate()
        await harness.router.registerLocal(device: "bridge", commands: ["restart": .press]) { _, _ in await gate.wait() }
        await harness.send("api2mqtt/bridge/restart/set", #"{"value": "PRESS", "transaction": "r1"}"#)
        let answered = await CoreTestSupport.spin(upTo: .seconds(60)) { !harness.results("bridge").isEmpty }
        #expect(answered)
        #expect(harness.results("bridge").map { $0["error_code"] } == ["timeout"])
        #expect(harness.results("bridge").first?["transaction"] == "r1")
        await gate.open()
        await harness.settle()
        #expect(harness.resultMessages("bridge").count == 1)
    }

    @Test("drain(timeout:) returns after its timeout even while a command is stuck")
    func drainIsBounded() async throws {
        let harness = try await RouterHarness()
        let gate = Gate()
        await harness.router.registerLocal(device: "bridge", commands: ["restart": .press]) { _, _ in await gate.wait() }
        await harness.send("api2mqtt/bridge/restart/set", "PRESS")

        let drained = Mutex(false)
        let draining = Task {
            await harness.router.drain(timeout: .milliseconds(50))
            drained.withLock { $0 = true }
        }
        // Returns after its 50 ms; the bound only matters when it never does.
        let returned = await CoreTestSupport.spin(upTo: .seconds(60)) { drained.withLock { $0 } }
        #expect(returned, "drain waited past its timeout")
        await gate.open()
        await draining.value
        await harness.settle()
        #expect(harness.results("bridge").map { $0["status"] } == ["ok"])
    }

    @Test("commands to one device run one after another; another device's run meanwhile")
    func serialPerDevice() async throws {
        let log = EventLog()
        let gate = Gate()
        let harness = try await RouterHarness(han: FakeCommandExecutor(name: "han", behaviour: .hold(gate), log: log))
        let garage = FakeCommandExecutor(name: "garage", log: log)
        let garageBridge = try BridgeHarness(source: CoreTestSupport.source(id: "garage"), broker: harness.broker)
        await harness.router.register(CommandRouter.Route(bridge: garageBridge.bridge, executor: garage))

        await harness.send("api2mqtt/han/fuse/set", "20")
        await harness.send("api2mqtt/han/fuse/set", "30")
        await harness.send("api2mqtt/garage/fuse/set", "40")

        let overlapped = await CoreTestSupport.eventually {
            let events = await log.events
            return events.contains(#"start han {"f":20}"#) && events.contains(#"end garage {"f":40}"#)
                && harness.results("garage").count == 1
        }
        #expect(overlapped, "garage's command finished while han's first one was still running")
        #expect(!(await log.events.contains(#"start han {"f":30}"#)), "han's second command waits for its first")
        #expect(harness.results("han").isEmpty)

        await gate.open()
        await harness.settle()
        #expect(
            await log.events.filter { $0.contains("han") } == [
                #"start han {"f":20}"#, #"end han {"f":20}"#, #"start han {"f":30}"#, #"end han {"f":30}"#,
            ])
        #expect(harness.results("han").map { $0["status"] } == ["ok", "ok"])
    }

    @Test("a failing command does not stop the next one to the same device")
    func failureDoesNotBlock() async throws {
        let harness = try await RouterHarness()
        await harness.han.setBehaviour(.fail(CommandFailure(.callFailed, "connection refused")))
        await harness.send("api2mqtt/han/fuse/set", "20")
        await harness.settle()
        await harness.han.setBehaviour(.succeed(204))
        await harness.send("api2mqtt/han/fuse/set", "21")
        await harness.settle()
        #expect(harness.results("han").map { $0["error_code"] } == ["call_failed", nil])
        #expect(harness.results("han").last?["http_status"] == 204)
        #expect(await harness.han.refreshes == [["config"]], "only the successful command re-reads")
    }

    @Test("the router subscribes to <base>/+/set and <base>/+/+/set only, and ignores other topics")
    func subscriptions() async throws {
        let harness = try await RouterHarness()
        try await harness.router.subscribe()
        #expect(harness.broker.subscriptions == ["api2mqtt/+/set", "api2mqtt/+/+/set"])
        #expect(!(await harness.send("api2mqtt/han", "{}")))
        #expect(!(await harness.send("api2mqtt/han/fuse", "20")))
        #expect(!(await harness.send("other/han/fuse/set", "20")))
        await harness.settle()
        #expect(harness.allResults.isEmpty)
    }
}

@Suite("CommandTopic")
struct CommandTopicTests {
    @Test("parses both command forms under the base topic and nothing else")
    func parsing() {
        let deviceLevel = CommandTopic(topic: "api2mqtt/han/set", base: "api2mqtt")
        #expect(deviceLevel?.device == "han")
        #expect(deviceLevel != nil && deviceLevel?.entity == nil)
        let entityLevel = CommandTopic(topic: "api2mqtt/han_a/unlock/set", base: "api2mqtt")
        #expect(entityLevel?.device == "han_a")
        #expect(entityLevel?.entity == "unlock")
        // Empty levels match the subscriptions (`+` matches an empty level): commands, answered.
        let levels = { (topic: String) in CommandTopic(topic: topic, base: "api2mqtt").map { [$0.device, $0.entity] } }
        #expect(levels("api2mqtt//set") == ["", nil])
        #expect(levels("api2mqtt/han//set") == ["han", ""])
        #expect(levels("api2mqtt///set") == ["", ""])
        let rejected = [
            "api2mqtt/set", "api2mqtt/a/b/c/set",
            "api2mqttx/han/set", "other/han/set", "api2mqtt/han/fuse", "api2mqtt/han/result",
        ]
        for topic in rejected {
            #expect(CommandTopic(topic: topic, base: "api2mqtt") == nil, "\(topic)")
        }
        #expect(CommandTopic.filters(base: "b") == ["b/+/set", "b/+/+/set"])
    }
}
