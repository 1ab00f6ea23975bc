import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import SourceKit
import Testing

@Suite("429 handling")
struct RateLimitTests {
    static let imfDate = "Tue, 14 Nov 2023 22:14:50 GMT"  // TestClock.epoch + 90 s

    @Test(
        "a 429 honours Retry-After in seconds or as a date, else pauses 60 s",
        arguments: [("120", Duration.seconds(120)), (imfDate, .seconds(90)), ("", .seconds(60))]
    )
    func retryAfter(header: String, pause: Duration) async throws {
        let router = Router()
        let hits = Recorder<Int>()
        router.get("/api/v1/devices") { _, _ -> Response in
            hits.append(1)
            var headers = HTTPFields()
            if !header.isEmpty { headers[.retryAfter] = header }
            return textResponse(#"{"error": "Rate limit exceeded"}"#, status: .tooManyRequests, headers: headers)
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let clock = TestClock()
                let budget = RateBudget(requestsPerMinute: 10, clock: clock)
                let client = try makeClient(base, pool: pool, budget: budget, clock: clock)
                await #expect(throws: SourceError.rateLimited(retryAfter: pause)) { try await client.get("/api/v1/devices") }
                // Blocked locally: neither a poll nor a command reaches the server until the pause is over.
                await #expect(throws: SourceError.self) { try await client.get("/api/v1/devices") }
                await #expect(throws: SourceError.self) { try await client.send(.post, "/api/v1/devices") }
                #expect(hits.count == 1)
                #expect(await budget.remaining() == 0)
                clock.advance(by: pause)
                await #expect(throws: SourceError.self) { try await client.get("/api/v1/devices") }
                #expect(hits.count == 2)
                #expect(clock.sleeps.isEmpty)
            }
        }
    }

    @Test("requests wait for the budget on the injected clock; commands use the reserve")
    func budgetPacing() async throws {
        let router = Router()
        router.get("/status") { _, _ -> Response in textResponse("{}") }
        router.post("/command") { _, _ -> Response in textResponse("{}") }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let clock = TestClock()
                let budget = RateBudget(requestsPerMinute: 6, reserve: 1, clock: clock)
                let client = try makeClient(base, pool: pool, budget: budget, clock: clock)
                for _ in 0..<5 { _ = try await client.get("/status") }
                #expect(await budget.remaining(for: .poll) == 0)
                _ = try await client.send(.post, "/command")
                #expect(clock.sleeps.isEmpty)
                _ = try await client.get("/status")
                #expect(clock.sleeps == [.seconds(20)])
            }
        }
    }
}

@Suite("Retry-After and error bodies")
struct ErrorParsingTests {
    let now = TestClock.epoch

    @Test(
        "Retry-After forms",
        arguments: [
            ("30", Duration.seconds(30)),
            ("Tue, 14 Nov 2023 22:14:50 GMT", .seconds(90)),
            ("Tuesday, 14-Nov-23 22:14:50 GMT", .seconds(90)),
            ("Tue Nov 14 22:14:50 2023", .seconds(90)),
            ("Mon, 13 Nov 2023 00:00:00 GMT", .zero),
        ]
    )
    func retryAfterForms(value: String, expected: Duration) {
        let response = SourceResponse(status: 429, headers: ["Retry-After": value])
        #expect(response.retryAfter(now: now) == expected)
    }

    @Test("unparseable Retry-After is ignored")
    func badRetryAfter() {
        #expect(SourceResponse(status: 429, headers: ["Retry-After": "soon"]).retryAfter(now: now) == nil)
    }

    @Test(
        "error bodies become one readable line",
        arguments: [
            (
                422,
                #"{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"Invalid input: limit must be between 1 and 1000"}"#,
                SourceError.http(status: 422, message: "Unprocessable Entity: Invalid input: limit must be between 1 and 1000")
            ),
            (
                400, #"{"status_code":2001,"status_message":"Failed to get config: nope","timestamp":"2024-01-15T10:30:00Z"}"#,
                .http(status: 400, message: "Failed to get config: nope (code 2001)")
            ),
            (500, "Erreur interne\nréessayer plus tard\n", .unavailable(status: 500, message: "Erreur interne réessayer plus tard")),
            (502, "<html><body><h1>Bad Gateway</h1></body></html>", .unavailable(status: 502, message: nil)),
            (409, #"{"error":{"message":"busy"}}"#, .http(status: 409, message: "busy")),
            (404, "no such thing", .notFound),
            (403, "", .forbidden),
            (429, #"{"error": "Rate limit exceeded"}"#, .rateLimited(retryAfter: nil)),
        ]
    )
    func errorBodies(status: Int, body: String, expected: SourceError) {
        #expect(SourceError.from(SourceResponse(status: status, body: Array(body.utf8)), now: now) == expected)
    }

    @Test("long messages are shortened; 2xx and 304 are not errors")
    func shortened() {
        let long = String(repeating: "x", count: 500)
        guard case .http(_, let message?) = SourceError.from(SourceResponse(status: 418, body: Array(long.utf8))) else {
            Issue.record("expected an HTTP error")
            return
        }
        #expect(message.count == 200)
        #expect(SourceError.from(SourceResponse(status: 204)) == nil)
        #expect(SourceError.from(SourceResponse(status: 304)) == nil)
    }

    @Test("descriptions are one line and classify retryability")
    func descriptions() {
        #expect(SourceError.rateLimited(retryAfter: .milliseconds(1500)).description == "rate limited, retry after 1.5 s")
        #expect(SourceError.timeout(after: .milliseconds(250)).description == "timed out after 250 ms")
        #expect(SourceError.unauthorized.isRetryable == false)
        #expect(SourceError.streamEnded.isRetryable)
        #expect(SourceError.http(status: 400, message: nil).isRetryable == false)
    }
}
