import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import SourceKit
import Testing

@Suite("WebSocket stream")
struct WebSocketTests {
    /// What the test server saw: upgrade headers, inbound texts and connection ends.
    final class Observed: Sendable {
        let events: AsyncStream<String>
        let continuation: AsyncStream<String>.Continuation
        let log = Recorder<String>()

        init() {
            (events, continuation) = AsyncStream<String>.makeStream()
        }

        func record(_ event: String) {
            log.append(event)
            continuation.yield(event)
        }

        /// Waits for the next recorded event that satisfies `predicate`.
        func next(where predicate: (String) -> Bool) async -> String? {
            for await event in events where predicate(event) { return event }
            return nil
        }
    }

    /// Serves `/ws`: sends two messages then closes; `/quiet`: never speaks;
    /// `/echo`: records what it receives until the client closes.
    static func run<Value: Sendable>(_ observed: Observed, _ body: (String) async throws -> Value) async throws -> Value {
        let wsRouter = Router(context: BasicWebSocketRequestContext.self)
        wsRouter.ws("/ws") { request, _ in
            observed.record("upgrade auth=\(request.headers[.authorization] ?? "-")")
            return .upgrade()
        } onUpgrade: { _, outbound, _ in
            try await outbound.write(.text(#"{"n":1}"#))
            try await outbound.write(.text(#"{"n":2}"#))
            // Hanging up in the same instant as the upgrade sometimes leaves WSClient 1.6.2
            // waiting for frames that never surface (until its ping timeout); real devices
            // keep the socket open, so the test server lingers briefly too.
            try await Task.sleep(for: .milliseconds(50))
        }
        wsRouter.ws("/quiet") { _, _ in
            .upgrade()
        } onUpgrade: { inbound, _, _ in
            for try await _ in inbound {}
        }
        wsRouter.ws("/echo") { _, _ in
            .upgrade()
        } onUpgrade: { inbound, outbound, _ in
            try await outbound.write(.text("welcome"))
            for try await message in inbound.messages(maxSize: 1 << 16) {
                if case .text(let text) = message { observed.record("got \(text)") }
            }
            observed.record("closed")
        }
        return try await TestServer.run(
            makeApp: { configuration, onRunning in
                Application(
                    router: Router(),
                    server: .http1WebSocketUpgrade(webSocketRouter: wsRouter, configuration: .init()),
                    configuration: configuration,
                    onServerRunning: onRunning,
                    logger: TestServer.logger
                )
            },
            body
        )
    }

    @Test("reconnects after the server closes and keeps delivering messages")
    func reconnects() async throws {
        let observed = Observed()
        try await Self.run(observed) { base in
            try await withPool { pool in
                let clock = TestClock()
                let client = try makeClient(base, pool: pool, auth: BearerTokenAuth(token: Credential("ws-token")), clock: clock)
                var messages: [String] = []
                for try await message in client.webSocket("/ws") {
                    messages.append(message)
                    if messages.count == 6 { break }
                }
                #expect(messages == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":1}"#, #"{"n":2}"#, #"{"n":1}"#, #"{"n":2}"#])
                // A fourth connection may already be under way when the consumer stops.
                #expect(observed.log.all.filter { $0.hasPrefix("upgrade") }.count >= 3)
                #expect(observed.log.all.first == "upgrade auth=Bearer ws-token")
                // Each close by the server waits one initial backoff before reconnecting.
                #expect(clock.sleeps.prefix(2) == [.seconds(1), .seconds(1)])
            }
        }
    }

    @Test("with reconnects off, the stream ends with the reason when its one connection ends")
    func singleConnection() async throws {
        let observed = Observed()
        try await Self.run(observed) { base in
            try await withPool { pool in
                let clock = TestClock()
                let client = try makeClient(base, pool: pool, auth: NoAuth(), clock: clock)
                var options = WebSocketOptions()
                options.reconnects = false
                var messages: [String] = []
                do {
                    for try await message in client.webSocket("/ws", options: options) { messages.append(message) }
                    Issue.record("expected the stream to end with an error")
                } catch {
                    #expect(error as? SourceError == .streamEnded)
                }
                #expect(messages == [#"{"n":1}"#, #"{"n":2}"#])
                #expect(observed.log.all.filter { $0.hasPrefix("upgrade") }.count == 1, "no second connection")
                #expect(clock.sleeps.isEmpty, "no reconnect backoff")
            }
        }
    }

    @Test("sends the greeting and keep-alive messages, and closes cleanly when the consumer stops")
    func greetingKeepAliveAndClose() async throws {
        let observed = Observed()
        try await Self.run(observed) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                let options = WebSocketOptions(
                    keepAlive: .init(message: #"{"command":"PingConnection"}"#, interval: .milliseconds(50)),
                    greeting: [#"{"command":"ListenChargePoints"}"#]
                )
                let consumer = Task {
                    for try await message in client.webSocket("/echo", options: options) where message == "welcome" {}
                }
                #expect(await observed.next { $0.hasPrefix("got") } == #"got {"command":"ListenChargePoints"}"#)
                #expect(await observed.next { $0.hasPrefix("got") } == #"got {"command":"PingConnection"}"#)
                consumer.cancel()
                #expect(await observed.next { $0 == "closed" } == "closed")
                _ = await consumer.result
            }
        }
    }

    @Test("a silent socket hits the idle timeout; the stream gives up after the allowed failures")
    func idleTimeout() async throws {
        let observed = Observed()
        try await Self.run(observed) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                let options = WebSocketOptions(idleTimeout: .milliseconds(200), maxConsecutiveFailures: 2)
                await #expect(throws: SourceError.timeout(after: .milliseconds(200))) {
                    for try await _ in client.webSocket("/quiet", options: options) {}
                }
            }
        }
    }

    @Test("a refused upgrade is a connection error")
    func refusedUpgrade() async throws {
        let observed = Observed()
        try await Self.run(observed) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                let options = WebSocketOptions(maxConsecutiveFailures: 1)
                await #expect(throws: SourceError.connection("WebSocket upgrade refused")) {
                    for try await _ in client.webSocket("/nowhere", options: options) {}
                }
            }
        }
    }

    /// A device that accepts the TCP connection and never answers the upgrade: WSClient alone
    /// waits for the answer forever. The connect is bounded by the source's `timeout`.
    @Test("a server that accepts the connection but never answers the upgrade fails the connect with the source's timeout",
          .timeLimit(.minutes(1)))
    func upgradeNeverAnswered() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        try await withPool { pool in
            let clock = TestClock()
            let client = try makeClient("http://127.0.0.1:\(listener.port)", pool: pool, clock: clock, timeout: .milliseconds(300))
            var options = WebSocketOptions(maxConsecutiveFailures: 2)
            options.reconnects = true
            let consumer = Task {
                var received = 0
                for try await _ in client.webSocket("/ws", options: options) { received += 1 }
                return received
            }
            // Two connects, each given up after the timeout; the stream then ends with the timeout.
            try await listener.accept()
            try await listener.accept()
            await #expect(throws: SourceError.timeout(after: .milliseconds(300))) { _ = try await consumer.value }
            try await listener.closedByPeer()
            #expect(clock.sleeps == [.seconds(1)], "one reconnect backoff between the two connects")
            #expect(client.statistics.failures == 2)
        }
    }

    @Test("cancelling the consumer while the upgrade is unanswered ends the stream without waiting for the timeout",
          .timeLimit(.minutes(1)))
    func cancelWhileConnecting() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        try await withPool { pool in
            // A timeout far beyond the test's time limit: only the cancellation can end the connect.
            let client = try makeClient("http://127.0.0.1:\(listener.port)", pool: pool, timeout: .seconds(3600))
            let consumer = Task {
                for try await _ in client.webSocket("/ws", options: WebSocketOptions(maxConsecutiveFailures: 1)) {}
            }
            try await listener.accept()
            consumer.cancel()
            _ = await consumer.result
            // The consumer's loop ends at once either way; the connection must end too.
            try await listener.closedByPeer()
        }
    }
}
