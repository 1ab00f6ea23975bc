import BridgeCore
import Foundation
import Simulators
import Testing

/// Every endpoint family of the Fritz!Box network API, over real sockets.
@Suite("Fritz!Box network simulator: REST")
struct FritzNetworkRESTTests {
    @Test("health needs no auth and reports the cache age and provider state")
    func health() async throws {
        try await withFritz { simulator, http in
            simulator.advance(by: .seconds(10))
            let health = try await http.get("/health")
            #expect(health.status == 200)
            #expect(health.json?["status"]?.string == "ok")
            #expect(health.json?["providers"]?["fritzbox"]?.string == "ok")
            let age = try #require(health.json?["cache_age_seconds"]?.integer)
            #expect((0...30).contains(age))

            simulator.setRouterReachable(false)
            let degraded = try await http.get("/health")
            #expect(degraded.json?["status"]?.string == "degraded")
            #expect(degraded.json?["providers"]?["fritzbox"]?.string == "unreachable")
        }
    }

    @Test("devices: both families list every client with the documented members, paged by limit/offset")
    func devices() async throws {
        try await withFritz { simulator, http in
            let provider = try await http.get("/api/v1/fritzbox/devices", headers: fritzKey)
            #expect(provider.status == 200)
            let items = try #require(provider.json?["items"]?.array)
            #expect(items.count == 12)
            #expect(provider.json?["total_count"]?.integer == 12)
            #expect(provider.json?["limit"]?.integer == 100)
            #expect(provider.json?["offset"]?.integer == 0)
            #expect(items.allSatisfy { $0.keys == fritzDeviceKeys })
            #expect(items.allSatisfy { [0, 1].contains($0["status"]?.integer ?? -1) })
            #expect(items.contains { $0["name"]?.string == #"evil/#+ "quoted""# })

            let aggregated = try await http.get("/api/v1/devices?limit=5&offset=10", headers: fritzKey)
            let page = try #require(aggregated.json?["items"]?.array)
            #expect(page.count == 2, "items 11 and 12 of 12")
            #expect(aggregated.json?["limit"]?.integer == 5)
            #expect(aggregated.json?["offset"]?.integer == 10)
            #expect(page.allSatisfy { $0.keys == fritzDeviceKeys.union(["provider_type"]) && $0["provider_type"]?.string == "fritzbox" })
            let beyond = try await http.get("/api/v1/devices?offset=50", headers: fritzKey)
            #expect(beyond.json?["items"]?.array?.isEmpty == true)
            #expect(beyond.json?["total_count"]?.integer == 12)
        }
    }

    @Test("150 extra clients page through with a server page cap; every client appears once")
    func paging() async throws {
        let clients = FritzNetworkClient.defaultNetwork + FritzNetworkClient.extra(150)
        try await withFritz(.test(clients: clients, maxPageSize: 100)) { _, http in
            var seen: [String] = []
            var offset = 0
            var pages = 0
            while true {
                let page = try await http.get("/api/v1/fritzbox/devices?limit=1000&offset=\(offset)", headers: fritzKey)
                #expect(page.json?["total_count"]?.integer == 162)
                let items = try #require(page.json?["items"]?.array)
                #expect(items.count <= 100)
                #expect(page.json?["limit"]?.integer == 100, "the granted page size is echoed")
                if items.isEmpty { break }
                pages += 1
                seen += items.compactMap { $0["mac"]?.string }
                offset += items.count
            }
            #expect(pages == 2)
            #expect(seen.count == 162)
            #expect(Set(seen).count == 162)
        }
    }

    @Test("bandwidth and WAN: both families (provider namespace and deprecated), the documented members")
    func currentDocuments() async throws {
        try await withFritz { _, http in
            for path in ["/api/v1/fritzbox/bandwidth", "/api/v1/bandwidth"] {
                let answer = try await http.get(path, headers: fritzKey)
                #expect(answer.status == 200, "\(path)")
                #expect(answer.json?.keys == fritzBandwidthKeys, "\(path)")
                #expect(answer.json?["is_stale"]?.bool == false)
                #expect((answer.json?["bytes_received"]?.integer ?? 0) > 0)
                let fetched = try #require(answer.json?["fetched_at"]?.string)
                #expect(fetched.hasSuffix("Z") && !fetched.contains("+"), "\(fetched)")
            }
            for path in ["/api/v1/fritzbox/wan", "/api/v1/wan"] {
                let answer = try await http.get(path, headers: fritzKey)
                #expect(answer.status == 200, "\(path)")
                #expect(answer.json?.keys == fritzWANKeys, "\(path)")
                #expect(answer.json?["is_connected"]?.bool == true)
                #expect(answer.json?["external_ip"]?.string?.hasPrefix("93.219.") == true)
            }
        }
    }

    @Test("history: both families, newest first, filtered by hours, paged")
    func history() async throws {
        try await withFritz { simulator, http in
            for _ in 0..<4 { simulator.tick() }
            for family in ["/api/v1", "/api/v1/fritzbox"] {
                let bandwidth = try await http.get("\(family)/history/bandwidth?hours=1&limit=10", headers: fritzKey)
                #expect(bandwidth.status == 200)
                let items = try #require(bandwidth.json?["items"]?.array)
                #expect(items.count == 10)
                #expect(items.allSatisfy { $0.keys == ["timestamp", "bytes_sent", "bytes_received", "upstream_rate", "downstream_rate"] })
                let stamps = items.compactMap { $0["timestamp"]?.integer }
                #expect(stamps == stamps.sorted(by: >), "newest first")
                let total = try #require(bandwidth.json?["total_count"]?.integer)
                #expect((60...70).contains(total), "a minute's samples for an hour plus the live ones: \(total)")
                let day = try await http.get("\(family)/history/bandwidth", headers: fritzKey)
                #expect((day.json?["total_count"]?.integer ?? 0) > total)

                let devices = try await http.get("\(family)/history/devices?hours=12&limit=200", headers: fritzKey)
                #expect(devices.status == 200)
                let rows = try #require(devices.json?["items"]?.array)
                #expect(rows.count == simulator.state.refreshes * 12, "one row per client per refresh")
                #expect(rows.allSatisfy { $0.keys == ["timestamp", "ip", "name", "mac", "is_online"] })
            }
        }
    }

    @Test("422 for limit, offset and hours out of range or not integers, as RFC 9457 problems")
    func validation() async throws {
        try await withFritz { _, http in
            let cases = [
                "/api/v1/devices?limit=0", "/api/v1/devices?limit=1001", "/api/v1/fritzbox/devices?offset=-1",
                "/api/v1/devices?limit=abc", "/api/v1/history/bandwidth?hours=0", "/api/v1/history/devices?hours=169",
                "/api/v1/fritzbox/history/bandwidth?limit=5000",
            ]
            for path in cases {
                let answer = try await http.get(path, headers: fritzKey)
                #expect(answer.status == 422, "\(path)")
                #expect(answer.headers["content-type"] == "application/problem+json")
                #expect(answer.json?.keys == problemKeys, "\(path)")
                #expect(answer.json?["title"]?.string == "Unprocessable Entity")
                #expect(answer.json?["status"]?.integer == 422)
                #expect(answer.json?["detail"]?.string?.hasPrefix("Invalid input: ") == true)
                #expect(answer.json?["instance"]?.string == String(path.prefix { $0 != "?" }))
            }
            #expect(try await http.get("/api/v1/history/bandwidth?hours=168&limit=1000", headers: fritzKey).status == 200)
        }
    }

    @Test("router unreachable: devices 503, WAN and bandwidth stale from the cache; reachable again, fresh")
    func unreachableRouter() async throws {
        try await withFritz { simulator, http in
            let before = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            simulator.setRouterReachable(false)
            simulator.advance(by: .seconds(120))
            let devices = try await http.get("/api/v1/fritzbox/devices", headers: fritzKey)
            #expect(devices.status == 503)
            #expect(devices.json?["detail"]?.string == "Device data not available - router may be unreachable")
            #expect(try await http.get("/api/v1/devices", headers: fritzKey).status == 503)
            let wan = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            #expect(wan.status == 200)
            #expect(wan.json?["is_stale"]?.bool == true)
            #expect(wan.json?["fetched_at"] == before.json?["fetched_at"], "the cache is not refreshed")
            #expect(try await http.get("/api/v1/fritzbox/bandwidth", headers: fritzKey).json?["is_stale"]?.bool == true)
            let health = try await http.get("/health")
            #expect((health.json?["cache_age_seconds"]?.integer ?? 0) >= 120)

            simulator.setRouterReachable(true)
            simulator.refreshNow()
            #expect(try await http.get("/api/v1/fritzbox/devices", headers: fritzKey).status == 200)
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: fritzKey).json?["is_stale"]?.bool == false)
        }
    }
}
