import BridgeCore
import Foundation
import Simulators
import Testing

/// Each real-server quirk of FIELD-NOTES.md ("Fritz!Box network API"), over real sockets.
@Suite("Fritz!Box network simulator: quirks")
struct FritzNetworkQuirkTests {
    @Test("fetched_at malformed (+00:00Z), then null")
    func fetchedAt() async throws {
        try await withFritz(.test(quirks: [.fetchedAtMalformed])) { simulator, http in
            let malformed = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            let text = try #require(malformed.json?["fetched_at"]?.string)
            #expect(text.hasSuffix("+00:00Z"))
            simulator.faults.disable(.fetchedAtMalformed)
            simulator.faults.enable(.fetchedAtNull)
            let null = try await http.get("/api/v1/fritzbox/bandwidth", headers: fritzKey)
            #expect(null.json?["fetched_at"]?.isNull == true)
            #expect(null.json?.keys == fritzBandwidthKeys, "the member is there, null")
        }
    }

    @Test("429 as {\"error\": \"Rate limit exceeded\"} without Retry-After")
    func plainRateLimit() async throws {
        try await withFritz(.test(rateLimit: 2, quirks: [.plainRateLimitError])) { _, http in
            _ = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            _ = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            let limited = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            #expect(limited.status == 429)
            #expect(limited.json?.keys == ["error"])
            #expect(limited.json?["error"]?.string == "Rate limit exceeded")
            #expect(limited.headers["retry-after"] == nil)
        }
    }

    @Test("clamped limits: out-of-range limit is clamped to 1...1000 instead of 422; offset and hours still validated")
    func clampedLimits() async throws {
        try await withFritz(.test(quirks: [.clampedLimits])) { _, http in
            let huge = try await http.get("/api/v1/fritzbox/devices?limit=5000", headers: fritzKey)
            #expect(huge.status == 200)
            #expect(huge.json?["limit"]?.integer == 1_000)
            let zero = try await http.get("/api/v1/fritzbox/devices?limit=0", headers: fritzKey)
            #expect(zero.json?["limit"]?.integer == 1)
            #expect(zero.json?["items"]?.array?.count == 1)
            #expect(try await http.get("/api/v1/fritzbox/devices?offset=-1", headers: fritzKey).status == 422)
            #expect(try await http.get("/api/v1/history/bandwidth?hours=500", headers: fritzKey).status == 422)
        }
    }

    @Test("empty MACs for clients that hide theirs; null provider_type in the aggregated list")
    func emptyMACsAndProvider() async throws {
        try await withFritz(.test(quirks: [.emptyMACs, .nullProviderType])) { _, http in
            let devices = try await http.get("/api/v1/devices", headers: fritzKey)
            let items = try #require(devices.json?["items"]?.array)
            let empty = items.filter { $0["mac"]?.string == "" }.compactMap { $0["name"]?.string }
            #expect(Set(empty) == ["Work-Laptop", "Printer-HP"])
            #expect(items.allSatisfy { $0["provider_type"]?.isNull == true })
            let history = try await http.get("/api/v1/history/devices", headers: fritzKey)
            #expect(history.json?["items"]?.array?.contains { $0["mac"]?.string == "" } == true)
        }
    }

    @Test("router reboot: byte counters and WAN uptime return to 0, clients reconnect at the next step")
    func routerReboot() async throws {
        try await withFritz { simulator, http in
            simulator.tick()
            let before = try await http.get("/api/v1/fritzbox/bandwidth", headers: fritzKey)
            let sentBefore = try #require(before.json?["bytes_sent"]?.integer)
            #expect(sentBefore > 1_000_000_000)
            simulator.faults.enable(.routerReboot, times: 1)
            simulator.tick()
            let after = try await http.get("/api/v1/fritzbox/bandwidth", headers: fritzKey)
            #expect(after.json?["bytes_sent"]?.integer == 0)
            #expect(after.json?["bytes_received"]?.integer == 0)
            let wan = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            #expect(wan.json?["uptime"]?.integer == 0)
            let offline = try await http.get("/api/v1/fritzbox/devices", headers: fritzKey)
            #expect(offline.json?["items"]?.array?.allSatisfy { $0["status"]?.integer == 0 } == true)
            #expect(simulator.state.reboots == 1)

            simulator.tick()
            let grown = try await http.get("/api/v1/fritzbox/bandwidth", headers: fritzKey)
            #expect((grown.json?["bytes_sent"]?.integer ?? -1) > 0)
            #expect((grown.json?["bytes_sent"]?.integer ?? .max) < sentBefore)
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: fritzKey).json?["uptime"]?.integer == 5)
            let online = try await http.get("/api/v1/fritzbox/devices", headers: fritzKey)
            #expect(online.json?["items"]?.array?.contains { $0["status"]?.integer == 1 } == true)
        }
    }

    @Test("an old server without /api/v1/fritzbox/: 404 there, the deprecated paths answer")
    func noProviderNamespace() async throws {
        try await withFritz(.test(quirks: [.noProviderNamespace])) { _, http in
            let provider = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            #expect(provider.status == 404)
            #expect(provider.json?["title"]?.string == "Not Found")
            #expect(try await http.get("/api/v1/fritzbox/devices", headers: fritzKey).status == 404)
            #expect(try await http.get("/api/v1/wan", headers: fritzKey).status == 200)
            #expect(try await http.get("/api/v1/devices", headers: fritzKey).status == 200)
        }
    }

    @Test("realServerQuirks switches the always-on quirks together")
    func realQuirks() async throws {
        try await withFritz(.test(quirks: FritzNetworkSimulator.realServerQuirks)) { simulator, http in
            #expect(simulator.faults.enabledQuirks == FritzNetworkSimulator.realServerQuirks)
            let wan = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            #expect(wan.json?["fetched_at"]?.string?.hasSuffix("+00:00Z") == true)
        }
    }
}
