import BridgeCore
import Foundation
import Simulators
import Testing

/// The real-portal quirks of `FIELD-NOTES.md` ("FlowerHub portal"), each switched on alone.
@Suite("FlowerHub simulator: quirks")
struct FlowerHubQuirkTests {
    @Test("refreshWrapsUser: refreshes alternate between {user: …} and the top-level user")
    func refreshShapes() async throws {
        try await withFlowerHub(.test(quirks: [.refreshWrapsUser])) { _, client in
            try await client.login()
            let first = try #require(try await client.get("/auth/refresh-token").json)
            let second = try #require(try await client.get("/auth/refresh-token").json)
            let third = try #require(try await client.get("/auth/refresh-token").json)
            #expect(first["user"]?["assetOwnerId"]?.integer == Int64(client.owner))
            #expect(first["refreshTokenExpirationDate"]?.string != nil)
            #expect(second["assetOwnerId"]?.integer == Int64(client.owner))
            #expect(second["user"] == nil)
            #expect(third["user"] != nil)
        }
    }

    @Test("effectiveUptimeOnly: uptime answers under /asset-effective-uptime/... and 404 under /asset-uptime/...")
    func effectiveUptime() async throws {
        try await withFlowerHub(.test(quirks: [.effectiveUptimeOnly])) { _, client in
            try await client.login()
            for kind in ["available-months/\(client.asset)", "bar-chart/history/\(client.asset)", "pie-chart/\(client.asset)?period=2026-03"] {
                #expect(try await client.get("/asset-effective-uptime/\(kind)").status == 200, "\(kind)")
                let legacy = try await client.get("/asset-uptime/\(kind)")
                #expect(legacy.status == 404, "\(kind)")
                #expect(legacy.json?["error"]?.string == "Not Found")
            }
        }
    }

    @Test("noETags: no ETag header, If-None-Match ignored")
    func noETags() async throws {
        try await withFlowerHub(.test(quirks: [.noETags])) { simulator, client in
            try await client.login()
            let answer = try await client.get("/asset/\(client.asset)")
            #expect(answer.status == 200)
            #expect(answer.header("ETag") == nil)
            #expect(try await client.get("/asset/\(client.asset)", headers: ["If-None-Match": "*"]).status == 200)
            #expect(simulator.state.notModifiedResponses == 0)
        }
    }

    @Test("periodicRateLimit: every 25th request gets 429 with Retry-After, and so does every request in that window")
    func periodicRateLimit() async throws {
        var configuration = FlowerHubSimulator.Configuration.test(quirks: [.periodicRateLimit])
        configuration.rateLimitRetryAfter = .seconds(120)
        try await withFlowerHub(configuration) { simulator, client in
            try await client.login()
            var statuses: [Int] = []
            for _ in 0..<24 { statuses.append(try await client.get("/asset/\(client.asset)").status) }
            #expect(statuses.prefix(23).allSatisfy { $0 == 200 })
            #expect(statuses.last == 429, "the 25th request (the login was the first)")
            let again = try await client.get("/asset/\(client.asset)")
            #expect(again.status == 429)
            let retryAfter = try #require(again.header("Retry-After").flatMap(Int.init))
            #expect((1...120).contains(retryAfter))
            #expect(again.json?["statusCode"]?.integer == 429)
            #expect(simulator.state.rateLimitedResponses == 2)
            #expect(simulator.state.requestsWhileRateLimited == 1)
        }
    }

    @Test("rateLimit(for:) hook: the next request gets 429 with that Retry-After; after it passes, 200 again")
    func forcedRateLimit() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            simulator.rateLimit(for: .milliseconds(300))
            let limited = try await client.get("/asset/\(client.asset)")
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") == "1", "whole seconds, rounded up")
            try await eventually("the window to pass") { !(await Self.stillLimited(client)) }
            #expect(try await client.get("/asset/\(client.asset)").status == 200)
        }
    }

    private static func stillLimited(_ client: FlowerHubClient) async -> Bool {
        (try? await client.get("/asset/\(client.asset)").status) == 429
    }

    @Test("originRequired: 403 without Origin: https://portal.flowerhub.se, also for the login")
    func originRequired() async throws {
        try await withFlowerHub(.test(quirks: [.originRequired])) { _, client in
            let refused = try await client.send("POST", "/auth/login", body: "{}", origin: false)
            #expect(refused.status == 403)
            #expect(refused.json?["message"]?.string == "Forbidden resource")
            #expect(try await client.login().status == 200)
            #expect(try await client.get("/asset/\(client.asset)", origin: false).status == 403)
            #expect(try await client.get("/asset/\(client.asset)").status == 200)
        }
    }

    @Test("realPortalQuirks holds all five")
    func realPortal() {
        #expect(FlowerHubSimulator.realPortalQuirks == [.refreshWrapsUser, .effectiveUptimeOnly, .noETags, .periodicRateLimit, .originRequired])
    }
}
