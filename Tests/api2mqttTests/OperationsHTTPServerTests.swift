import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Testing

@testable import api2mqtt

/// The daemon's own HTTP/1 server (`/health`, `/metrics`) on a free loopback port, spoken to
/// with raw bytes over a real socket. The time limit only guards against a hang.
@Suite("Operations HTTP server", .timeLimit(.minutes(2)))
struct OperationsHTTPServerTests {
    static let routes: OperationsHTTPServer.Routes = { path in
        switch path {
        case "/health": OperationsResponse(status: .ok, contentType: "application/json", body: Array(#"{"status":"ok"}"#.utf8))
        case "/metrics": OperationsResponse(status: .ok, contentType: "text/plain", body: Array("api2mqtt_up 1\n".utf8))
        default: nil
        }
    }

    @Test("GET /health and /metrics on one keep-alive connection; Connection: close ends it after the answer")
    func keepAliveThenClose() async throws {
        try await withServer { port in
            try await withConnection(port) { connection in
                try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                let health = try await connection.response()
                #expect(health.status == 200)
                #expect(health.headers["content-type"] == "application/json")
                #expect(health.headers["connection"] == "keep-alive")
                #expect(health.body == #"{"status":"ok"}"#)
                try await connection.send("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
                let metrics = try await connection.response()
                #expect(metrics.status == 200)
                #expect(metrics.body == "api2mqtt_up 1\n")
                try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                let last = try await connection.response()
                #expect(last.status == 200)
                #expect(last.headers["connection"] == "close")
                #expect(try await connection.isClosedByServer())
            }
        }
    }

    @Test("HTTP/1.0 without keep-alive is answered and closed")
    func http10() async throws {
        try await withServer { port in
            try await withConnection(port) { connection in
                try await connection.send("GET /health HTTP/1.0\r\n\r\n")
                let answer = try await connection.response()
                #expect(answer.statusLine.hasPrefix("HTTP/1.0 200"))
                #expect(try await connection.isClosedByServer())
            }
        }
    }

    @Test("an unknown path is 404, any method but GET is 405 with Allow: GET")
    func notFoundAndMethodNotAllowed() async throws {
        try await withServer { port in
            try await withConnection(port) { connection in
                try await connection.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await connection.response().status == 404)
                try await connection.send("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
                let post = try await connection.response()
                #expect(post.status == 405)
                #expect(post.headers["allow"] == "GET")
                // The connection is still usable after refusals.
                try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await connection.response().status == 200)
            }
            try await withConnection(port) { connection in
                // A HEAD answer has no body, whatever its Content-Length says: read to the close.
                try await connection.send("HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                #expect(try await connection.isClosedByServer())
                #expect(connection.received.hasPrefix("HTTP/1.1 405"), "\(connection.received)")
            }
        }
    }

    @Test("a request head over 8 KiB is refused (400) and the connection closed")
    func oversizedHead() async throws {
        try await withServer { port in
            try await withConnection(port) { connection in
                let filler = String(repeating: "a", count: 3_000)
                let headers = (0..<4).map { "X-Filler-\($0): \(filler)\r\n" }.joined()
                try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\(headers)\r\n")
                let answer = try await connection.response()
                #expect(answer.status == 400)
                #expect(try await connection.isClosedByServer())
            }
            try await withConnection(port) { connection in
                let path = "/" + String(repeating: "p", count: 10_000)
                try await connection.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await connection.response().status == 400)
                #expect(try await connection.isClosedByServer())
            }
        }
    }

    @Test("a request body over 1 KiB is refused (413) and the connection closed")
    func oversizedBody() async throws {
        try await withServer { port in
            try await withConnection(port) { connection in
                let body = String(repeating: "b", count: 2_000)
                try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                let answer = try await connection.response()
                #expect(answer.status == 413)
                #expect(answer.headers["connection"] == "close")
                #expect(try await connection.isClosedByServer())
            }
        }
    }

    @Test("graceful shutdown closes idle keep-alive connections, stops accepting, and run() returns")
    func gracefulShutdown() async throws {
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let server = OperationsHTTPServer(
            host: "127.0.0.1", port: 0, routes: Self.routes, logger: Logger(label: "test"),
            onListening: { listening.yield($0) })
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: server)], gracefulShutdownSignals: [], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await withConnection(port) { connection in
                try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await connection.response().status == 200)
                await group.triggerGracefulShutdown()
                #expect(try await connection.isClosedByServer())
            }
            try await tasks.next()
            await #expect(throws: (any Error).self) {
                try await withConnection(port) { connection in
                    try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    _ = try await connection.response()
                }
            }
        }
    }

    @Test("a port in use is an error that names the address")
    func bindFailure() async throws {
        try await withServer { port in
            let second = OperationsHTTPServer(host: "127.0.0.1", port: port, routes: Self.routes, logger: Logger(label: "test"))
            let error = await #expect(throws: OperationsHTTPServerError.self) { try await second.run() }
            #expect(error?.description.contains("127.0.0.1:\(port)") == true)
        }
    }

    /// Runs the server on a free port for `body`, then shuts it down gracefully.
    private func withServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let server = OperationsHTTPServer(
            host: "127.0.0.1", port: 0, routes: Self.routes, logger: Logger(label: "test"),
            onListening: { listening.yield($0) })
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: server)], gracefulShutdownSignals: [], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// A raw TCP connection: bytes out, bytes in.
private struct RawConnection {
    struct Response {
        let statusLine: String
        let headers: [String: String]
        let body: String
        var status: Int { statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0 }
    }

    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var pending: [UInt8] = []

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// The next response (Content-Length framed, as the server always sends).
    mutating func response() async throws -> Response {
        while true {
            if let end = headEnd(), let response = try parse(headEnd: end) { return response }
            guard let chunk = try await nextChunk() else { throw RawConnectionError("closed before a full response") }
            pending += chunk
        }
    }

    /// Everything received and not yet parsed as a response.
    var received: String { String(decoding: pending, as: UTF8.self) }

    /// True once the server closed the connection (end of stream, or a reset).
    mutating func isClosedByServer() async throws -> Bool {
        do {
            while let chunk = try await nextChunk() { pending += chunk }
            return true
        } catch let error as RawConnectionError {
            throw error
        } catch {
            return true
        }
    }

    private mutating func nextChunk() async throws -> [UInt8]? {
        try await inbound.next().map { Array($0.readableBytesView) }
    }

    private func headEnd() -> Int? {
        let marker: [UInt8] = Array("\r\n\r\n".utf8)
        guard pending.count >= marker.count else { return nil }
        for index in 0...(pending.count - marker.count) where Array(pending[index..<index + marker.count]) == marker {
            return index
        }
        return nil
    }

    private mutating func parse(headEnd: Int) throws -> Response? {
        let head = String(decoding: pending[..<headEnd], as: UTF8.self)
        var lines = head.split(separator: "\r\n").map(String.init)
        guard !lines.isEmpty else { throw RawConnectionError("empty head") }
        let statusLine = lines.removeFirst()
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].drop { $0 == " " }.description
        }
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        let bodyStart = headEnd + 4
        guard pending.count >= bodyStart + length else { return nil }
        let body = String(decoding: pending[bodyStart..<bodyStart + length], as: UTF8.self)
        pending.removeSubrange(..<(bodyStart + length))
        return Response(statusLine: statusLine, headers: headers, body: body)
    }
}

private struct RawConnectionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Connects to 127.0.0.1:`port` and runs `body` with the connection; closes it afterwards.
private func withConnection(_ port: Int, _ body: (inout RawConnection) async throws -> Void) async throws {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    try await channel.executeThenClose { inbound, outbound in
        var connection = RawConnection(outbound: outbound, inbound: inbound.makeAsyncIterator())
        try await body(&connection)
    }
}
