import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SourceKit
import Testing

@Suite("Server-sent events over HTTP")
struct EventStreamTests {
    /// Sends three events per connection, continuing after `Last-Event-ID`, then closes.
    static func router(seen: Recorder<String>) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/sse") { request, _ -> Response in
            let last = request.headers[.lastEventIDHeader]
            seen.append(last ?? "-")
            let start = Int(last ?? "0") ?? 0
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: ": hello\nretry: 250\n\n"))
                    for id in (start + 1)...(start + 3) {
                        // CRLF line ends, split mid-line across writes.
                        try await writer.write(ByteBuffer(string: "event: HAN_METER_MESSAGE\r\nid: \(id)\r\nda"))
                        try await writer.write(ByteBuffer(string: "ta: {\"n\":\(id)}\r\n\r\n"))
                    }
                    try await writer.finish(nil)
                }
            )
        }
        router.get("/hang") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: ": open\n\n"))
                    try await Task.sleep(for: .seconds(30))
                    try await writer.finish(nil)
                }
            )
        }
        router.get("/gone") { _, _ -> Response in textResponse("gone", status: .notFound, contentType: "text/plain") }
        router.get("/stop") { _, _ -> Response in Response(status: .noContent) }
        return router
    }

    @Test("a dropped stream resumes with Last-Event-ID after the server's retry delay")
    func resumes() async throws {
        let seen = Recorder<String>()
        try await TestServer.run(Self.router(seen: seen)) { base in
            try await withPool { pool in
                let clock = TestClock()
                let client = try makeClient(base, pool: pool, clock: clock)
                var events: [SSEEvent] = []
                for try await event in client.events("/sse") {
                    events.append(event)
                    if events.count == 7 { break }
                }
                #expect(events.map(\.id) == (1...7).map { String($0) })
                #expect(events.allSatisfy { $0.type == "HAN_METER_MESSAGE" })
                #expect(events.last?.data == #"{"n":7}"#)
                #expect(seen.all == ["-", "3", "6"])
                #expect(clock.sleeps == [.milliseconds(250), .milliseconds(250)])
            }
        }
    }

    @Test("a silent connection hits the idle timeout and the stream gives up after the allowed failures")
    func idleTimeout() async throws {
        try await TestServer.run(Self.router(seen: Recorder())) { base in
            try await withPool { pool in
                let clock = TestClock()
                let client = try makeClient(base, pool: pool, clock: clock)
                let options = StreamOptions(idleTimeout: .milliseconds(200), maxConsecutiveFailures: 2)
                await #expect(throws: SourceError.timeout(after: .milliseconds(200))) {
                    for try await _ in client.events("/hang", options: options) {}
                }
                #expect(clock.sleeps.count == 1)
            }
        }
    }

    @Test("a 404 ends the stream at once; a 204 ends it normally")
    func terminal() async throws {
        try await TestServer.run(Self.router(seen: Recorder())) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                await #expect(throws: SourceError.notFound) {
                    for try await _ in client.events("/gone") {}
                }
                var count = 0
                for try await _ in client.events("/stop") { count += 1 }
                #expect(count == 0)
            }
        }
    }
}
