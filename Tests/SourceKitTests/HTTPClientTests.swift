import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SourceKit
import Synchronization
import Testing

@Suite("SourceHTTPClient over HTTP")
struct HTTPClientTests {
    @Test("a 304 answer returns the cached document flagged unchanged")
    func etag() async throws {
        let router = Router()
        let validators = Recorder<String>()
        router.get("/state") { request, _ -> Response in
            validators.append(request.headers[.ifNoneMatch] ?? "-")
            if request.headers[.ifNoneMatch] == "\"v1\"" {
                return Response(status: .notModified, headers: [.eTag: "\"v1\""])
            }
            return textResponse("{\"on\":true}", headers: [.eTag: "\"v1\""])
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                let first = try await client.get("/state")
                #expect(!first.unchanged)
                #expect(first.text == "{\"on\":true}")
                let second = try await client.get("/state")
                #expect(second.unchanged)
                #expect(second.status == 200)
                #expect(second.body == first.body)
                #expect(validators.all == ["-", "\"v1\""])
                #expect(client.statistics.notModified == 1)
                #expect(client.statistics.requests == 2)
            }
        }
    }

    @Test("a GET is retried after 503s with exponential backoff on the injected clock")
    func retriesGet() async throws {
        let router = Router()
        let hits = Recorder<Int>()
        router.get("/flaky") { _, _ -> Response in
            hits.append(1)
            return hits.count <= 2 ? textResponse("busy", status: .serviceUnavailable, contentType: "text/plain") : textResponse("{}")
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let clock = TestClock()
                let client = try makeClient(base, pool: pool, clock: clock)
                let response = try await client.get("/flaky")
                #expect(response.status == 200)
                #expect(hits.count == 3)
                #expect(clock.sleeps == [.milliseconds(500), .seconds(1)])
                #expect(client.statistics.retries == 2)
            }
        }
    }

    @Test("retries give up with the server's problem+json message")
    func retriesExhausted() async throws {
        let router = Router()
        router.get("/down") { _, _ -> Response in
            textResponse(
                #"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"Device data not available - router may be unreachable"}"#,
                status: .serviceUnavailable,
                contentType: "application/problem+json"
            )
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                let error = await #expect(throws: SourceError.self) { try await client.get("/down") }
                #expect(error == .unavailable(status: 503, message: "Service Unavailable: Device data not available - router may be unreachable"))
                #expect(error?.isRetryable == true)
                #expect(client.statistics.requests == 3)
            }
        }
    }

    @Test("a command is never retried")
    func postNotRetried() async throws {
        let router = Router()
        let hits = Recorder<Int>()
        router.post("/api/system/restart") { _, _ -> Response in
            hits.append(1)
            return textResponse("rebooting failed", status: .internalServerError, contentType: "text/plain")
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                await #expect(throws: SourceError.unavailable(status: 500, message: "rebooting failed")) {
                    try await client.send(.post, "/api/system/restart", body: .json(["target": "bms"]))
                }
                #expect(hits.count == 1)
            }
        }
    }

    @Test("a refused connection fails at once as a connection error")
    func refused() async throws {
        try await withPool { pool in
            let client = try makeClient("http://127.0.0.1:1", pool: pool, retry: .never)
            let error = await #expect(throws: SourceError.self) { try await client.get("/") }
            guard case .connection = error else {
                Issue.record("expected a connection error, got \(String(describing: error))")
                return
            }
        }
    }

    @Test("bodies over the size limit stop with tooLarge, with and without Content-Length", arguments: [true, false])
    func sizeLimit(declared: Bool) async throws {
        let router = Router()
        let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
        router.get("/big") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(contentLength: declared ? 40 * 64 * 1024 : nil) { writer in
                    for _ in 0..<40 { try await writer.write(chunk) }
                    try await writer.finish(nil)
                }
            )
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, retry: .never, maxBodySize: 1 << 20)
                await #expect(throws: SourceError.tooLarge(limit: 1 << 20)) { try await client.get("/big") }
            }
        }
    }

    @Test("JSON is decoded whatever the Content-Type; bad JSON is a malformed response")
    func json() async throws {
        struct Meter: Decodable { let pi: [Int] }
        let router = Router()
        router.get("/meter") { _, _ -> Response in textResponse(#"{"pi":[1200,0]}"#, contentType: "text/plain") }
        router.get("/broken") { _, _ -> Response in textResponse(#"{"pi":[1200,"#) }
        router.get("/wrong") { _, _ -> Response in textResponse(#"{"po":[1]}"#) }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                #expect(try await client.get("/meter").decode(Meter.self).pi == [1200, 0])
                let broken = try await client.get("/broken")
                #expect(throws: SourceError.malformedResponse("body is not valid JSON")) { try broken.decode(Meter.self) }
                let wrong = try await client.get("/wrong")
                #expect(throws: SourceError.malformedResponse("missing key pi")) { try wrong.decode(Meter.self) }
            }
        }
    }

    @Test("a server that never answers, or stalls mid-body, hits the request timeout", arguments: ["/silent", "/stall"])
    func timeout(path: String) async throws {
        let router = Router()
        router.get("/silent") { _, _ -> Response in
            try await Task.sleep(for: .seconds(30))
            return textResponse("{}")
        }
        router.get("/stall") { _, _ -> Response in
            Response(
                status: .ok,
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "{\"partial\":"))
                    try await Task.sleep(for: .seconds(30))
                    try await writer.finish(nil)
                }
            )
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, timeout: .milliseconds(300), retry: .never)
                await #expect(throws: SourceError.timeout(after: .milliseconds(300))) { try await client.get(path) }
            }
        }
    }

    @Test("gzip bodies are decompressed")
    func gzip() async throws {
        let compressed: [UInt8] = [
            31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 170, 202, 44, 40, 72, 77, 81, 178, 42, 41, 42, 77, 173, 5, 0, 132, 40, 188, 8,
            15, 0, 0, 0,
        ]
        let router = Router()
        router.get("/zipped") { request, _ -> Response in
            guard request.headers[.acceptEncoding]?.contains("gzip") == true else { return textResponse("no gzip", status: .badRequest) }
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .contentEncoding: "gzip"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: compressed))
            )
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                #expect(try await client.get("/zipped").text == #"{"zipped":true}"#)
            }
        }
    }

    @Test("query items are percent-encoded and default headers are sent")
    func queryAndHeaders() async throws {
        let router = Router()
        router.get("/echo") { request, _ -> Response in
            let query = request.uri.query ?? ""
            let agent = request.headers[.userAgent] ?? ""
            let origin = request.headers[.origin] ?? ""
            return textResponse("\(query)|\(agent)|\(origin)", contentType: "text/plain")
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, headers: [(name: "Origin", value: "https://portal.flowerhub.se")])
                let answer = try await client.get("/echo", query: [(name: "a b", value: "c&d=é")]).text
                #expect(answer == "a%20b=c%26d%3D%C3%A9|api2mqtt|https://portal.flowerhub.se")
            }
        }
    }

    @Test("one HTTP client per distinct TLS configuration")
    func poolPerTLS() async throws {
        try await withPool { pool in
            for tls in [SourceTLS.verified, SourceTLS(insecure: true), .verified, SourceTLS(caFile: "/tmp/ca.pem"), SourceTLS(insecure: true)] {
                let client = SourceHTTPClient(
                    configuration: .init(baseURL: try SourceURL("http://127.0.0.1:1"), tls: tls, retry: .never),
                    pool: pool,
                    logger: quietLogger
                )
                _ = try? await client.get("/")
            }
            #expect(pool.clientCount == 3)
        }
    }

    @Test("base URLs are validated and paths resolved")
    func urls() throws {
        let url = try SourceURL("http://10.0.0.5/api/")
        #expect(url.resolve("/status") == "http://10.0.0.5/api/status")
        #expect(url.resolve("status", query: [(name: "limit", value: "10")]) == "http://10.0.0.5/api/status?limit=10")
        #expect(url.webSocket("/ws") == "ws://10.0.0.5/api/ws")
        #expect(try SourceURL("https://h").webSocket("/ws") == "wss://h/ws")
        #expect(throws: SourceError.self) { try SourceURL("ftp://h") }
        #expect(throws: SourceError.self) { try SourceURL("http://user:pw@h") }
    }
}
