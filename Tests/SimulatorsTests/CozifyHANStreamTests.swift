import BridgeCore
import Foundation
import HTTPTypes
import NIOWebSocket
import Simulators
import Testing
import WSClient

/// `/sse` and `/ws`: a `HAN_STATE_MESSAGE` snapshot first, then meter messages; drops and shutdown end them.
@Suite("Cozify HAN simulator: SSE and WebSocket")
struct CozifyHANStreamTests {
    static func telegram(_ text: String) throws -> CozifyHANTelegram {
        try JSONDecoder().decode(CozifyHANTelegram.self, from: Data(text.utf8))
    }

    @Test("SSE sends HAN_STATE_MESSAGE first, then HAN_METER_MESSAGEs; event names equal the JSON type")
    func sse() async throws {
        try await withHAN(.streaming) { simulator, http in
            let stream = try await SSEStream.open(http)
            defer { stream.cancel() }
            #expect(stream.status == 200)
            #expect(stream.headers["content-type"] == "text/event-stream")
            let events = Array(try await stream.events(atLeast: 4).prefix(4))
            #expect(events.map(\.event) == ["HAN_STATE_MESSAGE", "HAN_METER_MESSAGE", "HAN_METER_MESSAGE", "HAN_METER_MESSAGE"])
            let state = try #require(events.first?.json)
            #expect(state.keys == stateMessageKeys)
            #expect(state["type"]?.string == "HAN_STATE_MESSAGE")
            var telegrams: [CozifyHANTelegram] = []
            for event in events.dropFirst() {
                let meter = try #require(event.json)
                #expect(meter.keys == meterMessageKeys)
                #expect(meter["type"]?.string == event.event)
                telegrams.append(try Self.telegram(event.data))
            }
            // Exactly the telegrams the simulator sent, in order, none skipped.
            let sent = simulator.state.telegrams
            let first = try #require(telegrams.first.flatMap { sent.firstIndex(of: $0) })
            #expect(Array(sent.dropFirst(first).prefix(telegrams.count)) == telegrams)
            #expect(MeterPhysics.violations(telegrams) == [])
        }
    }

    @Test("WebSocket sends HAN_STATE_MESSAGE first, then HAN_METER_MESSAGEs; the server notices the client leaving")
    func webSocket() async throws {
        try await withHAN(.streaming) { simulator, _ in
            let stream = WebSocketStream.open(port: try port(of: simulator), closeAfter: 3)
            let messages = try await stream.messages(atLeast: 3)
            let types = messages.map { JSON.decode($0)?["type"]?.string }
            #expect(types == ["HAN_STATE_MESSAGE", "HAN_METER_MESSAGE", "HAN_METER_MESSAGE"])
            #expect(JSON.decode(messages[0])?.keys == stateMessageKeys)
            let telegrams = try messages.dropFirst().map(Self.telegram)
            #expect(telegrams.allSatisfy { simulator.state.telegrams.contains($0) })
            #expect(MeterPhysics.violations(telegrams) == [])
            let ending = try await stream.end()
            #expect(!ending.isClosedByServer, "the client closed after three messages: \(ending)")
            try await eventually("the simulator to drop the closed WebSocket") { simulator.state.openStreams == 0 }
        }
    }

    @Test("a manual telegram reaches every open stream unchanged")
    func manualTelegramOnStreams() async throws {
        try await withHAN { simulator, http in
            let sse = try await SSEStream.open(http)
            defer { sse.cancel() }
            let ws = WebSocketStream.open(port: try port(of: simulator))
            try await sse.events(atLeast: 1)
            try await ws.messages(atLeast: 1)
            try await eventually("both streams to subscribe") { simulator.state.openStreams == 2 }

            let sent = simulator.emitTelegramNow()
            let events = try await sse.events(atLeast: 2)
            let messages = try await ws.messages(atLeast: 2)
            #expect(events.map(\.event) == ["HAN_STATE_MESSAGE", "HAN_METER_MESSAGE"])
            #expect(try Self.telegram(events[1].data) == sent)
            #expect(try Self.telegram(messages[1]) == sent)
            try await ws.close()
        }
    }

    @Test("unknownMessageTypes adds HAN_CONFIGURATION_MESSAGE and HAN_OTA_MESSAGE to both streams")
    func unknownMessageTypes() async throws {
        try await withHAN(.test(interval: .milliseconds(50), meterDelay: .zero, quirks: [.unknownMessageTypes])) { simulator, http in
            let expected = ["HAN_STATE_MESSAGE", "HAN_CONFIGURATION_MESSAGE", "HAN_METER_MESSAGE", "HAN_OTA_MESSAGE"]
            let sse = try await SSEStream.open(http)
            defer { sse.cancel() }
            let events = Array(try await sse.events(atLeast: 4).prefix(4))
            #expect(events.map(\.event) == expected)
            #expect(events.map { $0.json?["type"]?.string } == expected)
            let configuration = try #require(events[1].json)
            #expect(configuration["w"]?["p"]?.string == "***", "the pushed configuration masks the password too")
            #expect(configuration["m"]?["f"]?.integer == 25)

            let ws = WebSocketStream.open(port: try port(of: simulator), closeAfter: 4)
            let messages = Array(try await ws.messages(atLeast: 4).prefix(4))
            #expect(messages.map { JSON.decode($0)?["type"]?.string } == expected)
            _ = try await ws.end()
        }
    }

    @Test("the sseKeepAlive quirk adds retry: 5000 and keep-alive comments; the events stay the same")
    func keepAlive() async throws {
        try await withHAN(.test(interval: .milliseconds(50), meterDelay: .zero, quirks: [.sseKeepAlive])) { _, http in
            let stream = try await SSEStream.open(http)
            defer { stream.cancel() }
            let events = Array(try await stream.events(atLeast: 2).prefix(2))
            #expect(events.map(\.event) == ["HAN_STATE_MESSAGE", "HAN_METER_MESSAGE"])
            #expect(stream.retry == 5000)
            #expect(stream.comments.contains("keep-alive"))
        }
    }

    @Test("without sseKeepAlive the stream has no comments and no retry:")
    func noKeepAlive() async throws {
        try await withHAN(.streaming) { _, http in
            let stream = try await SSEStream.open(http)
            defer { stream.cancel() }
            try await stream.events(atLeast: 2)
            #expect(stream.retry == nil)
            #expect(stream.comments.isEmpty)
        }
    }

    @Test("dropStreams() closes the open SSE and WebSocket streams; new ones work again")
    func dropOpenStreams() async throws {
        try await withHAN(.streaming) { simulator, http in
            let sse = try await SSEStream.open(http)
            defer { sse.cancel() }
            let ws = WebSocketStream.open(port: try port(of: simulator))
            // Both clients are settled once a meter message came through.
            try await sse.events(atLeast: 2)
            try await ws.messages(atLeast: 2)

            simulator.faults.dropStreams()
            let sseEnding = try await sse.end()
            #expect(sseEnding.isFinished, "SSE ends with a clean end of the response: \(sseEnding)")
            #expect(sse.events.first?.event == "HAN_STATE_MESSAGE")
            let wsEnding = try await ws.end()
            #expect(wsEnding.serverCloseCode == .normalClosure, "\(wsEnding)")
            // dropStreams() is a one-off: it does not stay active.
            #expect(simulator.faults.rules.isEmpty)

            let again = try await SSEStream.open(http)
            defer { again.cancel() }
            #expect(try await again.events(atLeast: 2).map(\.event).prefix(2) == ["HAN_STATE_MESSAGE", "HAN_METER_MESSAGE"])
        }
    }

    @Test("dropStreams(on:) closes only the streams on its scope")
    func dropOpenStreamsOnScope() async throws {
        try await withHAN(.streaming) { simulator, http in
            let sse = try await SSEStream.open(http)
            defer { sse.cancel() }
            let ws = WebSocketStream.open(port: try port(of: simulator))
            try await sse.events(atLeast: 2)
            try await ws.messages(atLeast: 2)

            simulator.faults.dropStreams(on: .paths(["/ws"]))
            #expect(try await ws.end().isClosedByServer)
            // The SSE stream goes on: more meter messages arrive after the WebSocket was dropped.
            let seen = sse.events.count
            try await sse.events(atLeast: seen + 2)
            #expect(sse.ending == nil)
        }
    }

    @Test("the dropStreams fault ends every new stream right after its snapshot, on its scope only")
    func dropStreamsFault() async throws {
        try await withHAN(.streaming) { simulator, http in
            let port = try port(of: simulator)
            simulator.faults.activate(.dropStreams, on: .paths(["/sse"]))
            let dropped = try await SSEStream.open(http)
            defer { dropped.cancel() }
            #expect(try await dropped.end().isFinished)
            #expect(dropped.events.map(\.event) == ["HAN_STATE_MESSAGE"])

            // /ws is not in the scope.
            let open = WebSocketStream.open(port: port, closeAfter: 2)
            #expect(try await open.messages(atLeast: 2).count == 2)
            _ = try await open.end()

            simulator.faults.activate(.dropStreams, on: .paths(["/ws"]))
            let droppedWebSocket = WebSocketStream.open(port: port)
            let ending = try await droppedWebSocket.end()
            #expect(ending.serverCloseCode == .normalClosure, "\(ending)")
            #expect(droppedWebSocket.messages.map { JSON.decode($0)?["type"]?.string } == ["HAN_STATE_MESSAGE"])

            simulator.faults.deactivate(.dropStreams)
            let healed = try await SSEStream.open(http)
            defer { healed.cancel() }
            #expect(try await healed.events(atLeast: 2).map(\.event).prefix(2) == ["HAN_STATE_MESSAGE", "HAN_METER_MESSAGE"])
        }
    }

    @Test("stop() ends open streams cleanly: SSE finishes its response, WebSocket gets a normal close")
    func stopEndsStreams() async throws {
        try await withHAN(.streaming) { simulator, http in
            let sse = try await SSEStream.open(http)
            defer { sse.cancel() }
            let ws = WebSocketStream.open(port: try port(of: simulator))
            try await sse.events(atLeast: 2)
            try await ws.messages(atLeast: 2)

            try await withDeadline("stop() with open streams") { await simulator.stop() }
            let sseEnding = try await sse.end()
            #expect(sseEnding.isFinished, "\(sseEnding)")
            let wsEnding = try await ws.end()
            #expect(wsEnding.serverCloseCode == .normalClosure, "\(wsEnding)")
            #expect(simulator.state.openStreams == 0)
        }
    }

    @Test("a bearer token guards SSE and WebSocket too; the request log never holds it")
    func streamsNeedToken() async throws {
        try await withHAN(.test(interval: .milliseconds(50), meterDelay: .zero, token: "s3cret")) { simulator, http in
            let port = try port(of: simulator)
            let refused = try await SSEStream.open(http)
            defer { refused.cancel() }
            #expect(refused.status == 401)

            let authorized = try await SSEStream.open(http, headers: ["Authorization": "Bearer s3cret"])
            defer { authorized.cancel() }
            #expect(authorized.status == 200)
            #expect(try await authorized.events(atLeast: 2).map(\.event).prefix(2) == ["HAN_STATE_MESSAGE", "HAN_METER_MESSAGE"])

            let anonymous = WebSocketStream.open(port: port)
            let anonymousEnding = try await anonymous.end()
            #expect((anonymousEnding.error as? WebSocketClientError) == .webSocketUpgradeFailed, "\(anonymousEnding)")
            #expect(anonymous.messages.isEmpty)

            let wrong = WebSocketStream.open(port: port, headers: [.authorization: "Bearer nope"])
            #expect((try await wrong.end().error as? WebSocketClientError) == .webSocketUpgradeFailed)

            let withToken = WebSocketStream.open(port: port, headers: [.authorization: "Bearer s3cret"], closeAfter: 2)
            #expect(try await withToken.messages(atLeast: 2).count == 2)
            _ = try await withToken.end()

            let recorded = simulator.requests.requests(path: "/ws").map { $0.headers["authorization"] }
            #expect(recorded == [nil, "Bearer ***", "Bearer ***"], "each upgrade request is logged once, redacted")
            #expect(!simulator.requests.all.contains { $0.headers.values.contains { $0.contains("s3cret") } })
        }
    }

    @Test("meter messages on the wire keep the physics: 100 telegrams over SSE")
    func physicsOnTheWire() async throws {
        try await withHAN(.test(interval: .milliseconds(5), meterDelay: .zero)) { _, http in
            let stream = try await SSEStream.open(http)
            defer { stream.cancel() }
            let events = try await stream.events(atLeast: 101)
            let telegrams = try events.filter { $0.event == "HAN_METER_MESSAGE" }.map { try Self.telegram($0.data) }
            #expect(telegrams.count >= 100)
            #expect(MeterPhysics.violations(telegrams) == [])
            // The documented milliseconds.
            #expect(telegrams.allSatisfy { $0.ts > 100_000_000_000 })
        }
    }
}
