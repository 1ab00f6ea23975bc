import BridgeCore
import Logging
import Testing

@Suite("BridgeRequestHandler")
struct BridgeRequestHandlerTests {
    let topics = BridgeTopics(base: "api2mqtt")

    func handler() async -> BridgeRequestHandler {
        let handler = BridgeRequestHandler(topics: topics, logger: Logger(label: "test"))
        await handler.register("echo") { parameters in parameters }
        await handler.register("fail") { _ in throw BridgeRequestError("source 'x' is not configured") }
        await handler.register("crash") { _ in throw CancellationError() }
        return handler
    }

    func response(_ messages: [OutboundMessage]) throws -> JSONValue {
        try JSONValue.parse(try #require(messages.first).payload)
    }

    @Test("an answer goes to bridge/response/<action>, not retained, with the transaction echoed as sent")
    func transactionEcho() async throws {
        let messages = await handler().handle(
            InboundMessage(topic: "api2mqtt/bridge/request/echo", string: #"{"transaction": 42, "a": "b"}"#))
        #expect(messages.count == 1)
        #expect(messages[0].topic == "api2mqtt/bridge/response/echo")
        #expect(messages[0].retain == false)
        let body = try response(messages)
        #expect(body["status"] == "ok")
        #expect(body["transaction"] == 42)
        #expect(body["data"] == ["a": "b"])
    }

    @Test("an empty payload is an empty parameter object")
    func emptyPayload() async throws {
        let body = try response(await handler().handle(InboundMessage(topic: "api2mqtt/bridge/request/echo", string: "")))
        #expect(body["status"] == "ok")
        #expect(body["data"] == .object([:]))
        #expect(body["transaction"] == nil)
    }

    @Test("unknown actions, bad JSON, reported failures and unexpected errors each get exactly one error response")
    func errors() async throws {
        let handler = await handler()
        let unknown = try response(
            await handler.handle(InboundMessage(topic: "api2mqtt/bridge/request/nope", string: #"{"transaction":"t"}"#)))
        #expect(unknown["status"] == "error")
        #expect(unknown["error"]?.stringValue?.contains("unknown action 'nope'") == true)
        #expect(unknown["transaction"] == "t")

        let bad = try response(await handler.handle(InboundMessage(topic: "api2mqtt/bridge/request/echo", string: "{")))
        #expect(bad["status"] == "error")
        #expect(bad["error"] == "invalid JSON in request payload")

        let failed = try response(await handler.handle(InboundMessage(topic: "api2mqtt/bridge/request/fail", string: "{}")))
        #expect(failed["error"] == "source 'x' is not configured")

        let crashed = try response(await handler.handle(InboundMessage(topic: "api2mqtt/bridge/request/crash", string: "{}")))
        #expect(crashed["error"] == "internal error")
    }

    @Test("retained requests are ignored, so they cannot fire again at every reconnect")
    func retainedIgnored() async {
        let messages = await handler().handle(
            InboundMessage(topic: "api2mqtt/bridge/request/echo", string: "{}", retain: true))
        #expect(messages.isEmpty)
    }

    @Test("with a response topic the answer is published there too, with the correlation data")
    func responseTopic() async throws {
        let messages = await handler().handle(
            InboundMessage(
                topic: "api2mqtt/bridge/request/echo", payload: Array("{}".utf8), responseTopic: "me/reply",
                correlationData: [1, 2]))
        #expect(messages.map(\.topic) == ["api2mqtt/bridge/response/echo", "me/reply"])
        #expect(messages[1].correlationData == [1, 2])
        #expect(messages[1].payload == messages[0].payload)
    }

    @Test("topics outside bridge/request are not handled")
    func otherTopics() async {
        #expect(await handler().handle(InboundMessage(topic: "api2mqtt/bridge/requestx", string: "{}")).isEmpty)
        #expect(await handler().handle(InboundMessage(topic: "api2mqtt/bridge/request/", string: "{}")).isEmpty)
    }
}
