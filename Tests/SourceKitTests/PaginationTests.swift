import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SourceKit
import Testing

@Suite("Pagination")
struct PaginationTests {
    /// A Fritz-like list of `count` devices that clamps `limit` to `clamp`.
    static func router(count: Int, clamp: Int, requests: Recorder<String>, nullItems: Bool = false) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/api/v1/devices") { request, _ -> Response in
            let limit = min(Int(request.uri.queryParameters["limit"].map(String.init) ?? "100") ?? 100, clamp)
            let offset = Int(request.uri.queryParameters["offset"].map(String.init) ?? "0") ?? 0
            requests.append("limit=\(request.uri.queryParameters["limit"] ?? "-")&offset=\(offset)")
            let end = min(offset + limit, count)
            let items = offset < end ? (offset..<end).map { #"{"id":"dev-\#($0)"}"# }.joined(separator: ",") : ""
            let list = nullItems ? "null" : "[\(items)]"
            return textResponse(#"{"items":\#(list),"total_count":\#(nullItems ? 0 : count),"limit":\#(limit),"offset":\#(offset)}"#)
        }
        return router
    }

    struct Combined: Decodable {
        struct Item: Decodable { let id: String }
        let items: [Item]
        let total_count: Int
    }

    @Test("fetches every page at the largest page size and joins the items")
    func allPages() async throws {
        let requests = Recorder<String>()
        try await TestServer.run(Self.router(count: 42, clamp: 1000, requests: requests)) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                let document = try await client.paginate("/api/v1/devices", maxPageSize: 20)
                #expect(requests.all == ["limit=20&offset=0", "limit=20&offset=20", "limit=20&offset=40"])
                #expect(document.pages == 3)
                #expect(document.itemCount == 42)
                let combined = try SourceResponse(status: 200, body: document.body).decode(Combined.self)
                #expect(combined.items.map(\.id) == (0..<42).map { "dev-\($0)" })
                #expect(combined.total_count == 42)
            }
        }
    }

    @Test("a server that clamps the page size is still paged to the end")
    func clamped() async throws {
        let requests = Recorder<String>()
        try await TestServer.run(Self.router(count: 25, clamp: 10, requests: requests)) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool)
                let document = try await client.paginate("/api/v1/devices")
                #expect(requests.all == ["limit=1000&offset=0", "limit=1000&offset=10", "limit=1000&offset=20"])
                #expect(document.itemCount == 25)
            }
        }
    }

    @Test("a single short page, or null items, take one request")
    func onePage() async throws {
        for nullItems in [false, true] {
            let requests = Recorder<String>()
            try await TestServer.run(Self.router(count: 3, clamp: 1000, requests: requests, nullItems: nullItems)) { base in
                try await withPool { pool in
                    let client = try makeClient(base, pool: pool)
                    let document = try await client.paginate("/api/v1/devices")
                    #expect(requests.count == 1)
                    #expect(document.itemCount == (nullItems ? 0 : 3))
                }
            }
        }
    }

    @Test("pages draw on the rate budget")
    func budget() async throws {
        let requests = Recorder<String>()
        try await TestServer.run(Self.router(count: 30, clamp: 1000, requests: requests)) { base in
            try await withPool { pool in
                let clock = TestClock()
                let budget = RateBudget(requestsPerMinute: 6, burst: 2, reserve: 0, clock: clock)
                let client = try makeClient(base, pool: pool, budget: budget, clock: clock)
                let document = try await client.paginate("/api/v1/devices", maxPageSize: 10)
                #expect(document.pages == 3)
                #expect(clock.sleeps == [.seconds(10)])
            }
        }
    }
}
