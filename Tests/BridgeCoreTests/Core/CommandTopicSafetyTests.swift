import BridgeCore
import Logging
import TestSupport
import Testing

/// Where results may go: only on topics a device id could have, and never onto the bridge's own
/// tree or the discovery prefix through an MQTT 5 response topic (issue #12).
@Suite("Command result topics")
struct CommandResultTopicTests {
    static let impossibleDevices = [
        "no such", "$x", "a+b", "Han", "han!", "x\u{1B}[31m", String(repeating: "d", count: 5_000), "ünï", "a.b",
        // An empty level: `+` in the subscriptions matches it, so it is a command like any other.
        "",
    ]

    @Test("a command to a device level that is no device id gets no result on <base>/<that>/result", arguments: impossibleDevices)
    func noResultTopicFromAnyString(device: String) async throws {
        let harness = try await RouterHarness()
        #expect(await harness.send("api2mqtt/\(device)/fuse/set", "20"), "still a command topic: it is answered, not ignored")
        #expect(await harness.send("api2mqtt/\(device)/set", #"{"fuse": 20}"#))
        await harness.settle()
        #expect(harness.broker.published.isEmpty, "\(harness.broker.published.map(\.topic))")
        #expect(await harness.totalCalls() == 0)
    }

    @Test("with MQTT 5 such a command's one error result goes to its response topic")
    func impossibleDeviceAnsweredOnResponseTopic() async throws {
        let harness = try await RouterHarness()
        await harness.send(
            "api2mqtt/no such/fuse/set", #"{"value": 20, "transaction": "t-9"}"#, responseTopic: "client/7/reply",
            correlationData: [7])
        await harness.settle()
        #expect(harness.broker.published.map(\.topic) == ["client/7/reply"])
        let reply = try #require(harness.broker.published.first)
        #expect(reply.correlationData == [7])
        let result = try #require(CoreTestSupport.parse(reply))
        #expect(result["error_code"] == "unknown_device")
        #expect(result["transaction"] == "t-9")
    }

    @Test("an empty entity level of a known device gets one unknown_entity result, and no call")
    func emptyEntityLevel() async throws {
        let harness = try await RouterHarness()
        #expect(await harness.send("api2mqtt/han//set", "20"))
        await harness.settle()
        #expect(harness.results("han").map { $0["error_code"] } == ["unknown_entity"])
        #expect(harness.allResults.count == 1)
        #expect(await harness.totalCalls() == 0)
    }

    @Test("a valid but unknown device id still gets its unknown_device result on its own result topic")
    func validUnknownDevice() async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/nosuch-2_x/fuse/set", "20")
        await harness.settle()
        #expect(harness.results("nosuch-2_x").map { $0["error_code"] } == ["unknown_device"])
    }

    static let forbiddenResponseTopics = [
        "api2mqtt/bridge/state", "api2mqtt/han/set", "api2mqtt/han/fuse/set", "api2mqtt/han", "api2mqtt",
        "api2mqtt/bridge/response/x", "homeassistant/status", "homeassistant/button/han/restart/config", "homeassistant",
        "client/+/reply", "client/#", "$SYS/broker/x", "client/\u{0}/reply",
    ]

    @Test("a response topic inside the bridge's tree or the discovery prefix is refused; the result still goes to <device>/result",
          arguments: forbiddenResponseTopics)
    func forbiddenResponseTopic(responseTopic: String) async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/han/fuse/set", "20", responseTopic: responseTopic, correlationData: [1])
        await harness.send("api2mqtt/han/set", "{", responseTopic: responseTopic, correlationData: [2])
        await harness.settle()
        #expect(harness.broker.published.allSatisfy { $0.topic == "api2mqtt/han/result" }, "\(harness.broker.published.map(\.topic))")
        #expect(harness.results("han").map { $0["status"] } == ["error", "ok"] || harness.results("han").map { $0["status"] } == ["ok", "error"])
    }

    @Test("a bridge request's response topic inside the bridge's tree or the discovery prefix is refused",
          arguments: forbiddenResponseTopics)
    func forbiddenRequestResponseTopic(responseTopic: String) async throws {
        let handler = BridgeRequestHandler(topics: BridgeTopics(base: "api2mqtt"), logger: CoreTestSupport.logger)
        await handler.register("echo") { parameters in parameters }
        let messages = await handler.handle(
            InboundMessage(topic: "api2mqtt/bridge/request/echo", payload: Array("{}".utf8), responseTopic: responseTopic))
        #expect(messages.map(\.topic) == ["api2mqtt/bridge/response/echo"])
    }

    @Test("a bridge request's integer transaction is echoed with all its digits")
    func requestTransactionDigits() async throws {
        let handler = BridgeRequestHandler(topics: BridgeTopics(base: "api2mqtt"), logger: CoreTestSupport.logger)
        await handler.register("echo") { parameters in parameters }
        for (payload, echoed) in [
            (#"{"transaction": 9007199254740993}"#, "9007199254740993"), (#"{"transaction":"9007199254740993"}"#, #""9007199254740993""#),
        ] {
            let messages = await handler.handle(
                InboundMessage(topic: "api2mqtt/bridge/request/echo", payload: Array(payload.utf8), responseTopic: "client/r"))
            #expect(messages.count == 2)
            for message in messages {
                #expect(String(decoding: message.payload, as: UTF8.self).contains(#""transaction":\#(echoed)}"#))
            }
        }
        let unknown = await handler.handle(
            InboundMessage(topic: "api2mqtt/bridge/request/nope", string: #"{"transaction": 9007199254740993}"#))
        #expect(unknown.first.map { String(decoding: $0.payload, as: UTF8.self) }?.contains(#""transaction":9007199254740993}"#) == true)
    }
}

/// Values from outside never forge a log line: one event, one line, bounded.
@Suite("Command logging")
struct CommandLoggingTests {
    @Test("payloads, topics and entity names with newlines, escapes or 5,000 characters are logged escaped and bounded")
    func noForgedLines() async throws {
        let recorder = LogRecorder()
        let logger = Logger(label: "router") { _ in recorder }
        let harness = try await RouterHarness(logger: logger)
        let forged = "\n2026-12-07T05:00:00+0000 critical api2mqtt : forged line\u{1B}[2J\r"
        await harness.send("api2mqtt/han/fuse/set", "1" + forged)
        await harness.send("api2mqtt/han/set", #"{"a\n2026-12-07T05:00:00+0000 critical forged": 1, "fuse": "x\u001b[2J\n"}"#)
        await harness.send("api2mqtt/han/mode/set", "Turbo" + forged)
        await harness.send("api2mqtt/han/" + String(repeating: "e", count: 5_000) + "/set", "1")
        await harness.send("api2mqtt/" + String(repeating: "d", count: 5_000) + "/set", "{}")
        await harness.send("api2mqtt/x\ny/fuse/set", "1")
        await harness.send("api2mqtt/han/fuse/set", "20", responseTopic: "api2mqtt/bridge/state\nforged")
        await harness.send("api2mqtt/han/fuse/set", "20" + forged, retain: true)
        await harness.settle()
        let lines = recorder.lines
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1B}"), "one event, one line: \(line.debugDescription)")
            #expect(line.count < 1_500, "bounded: \(line.count) characters")
        }
    }
}
