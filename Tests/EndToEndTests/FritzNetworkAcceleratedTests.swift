import AcceleratedBridge
import Foundation
import Mosquitto
import Simulators
import Testing
import TestSupport

/// The Fritz!Box network source through a real mosquitto over 10 simulated minutes: the bridge's
/// real parts in-process (``InProcessBridge``, as `api2mqtt run` wires them) on one simulated clock
/// shared by the runner's schedule, the adapter's rate budget and the simulator
/// (``FritzAcceleratedRun``). The test looks only at MQTT and at the simulator's request log.
@Suite("Fritz!Box network, accelerated through MQTT", .serialized)
struct FritzNetworkAcceleratedTests {
    static func json(_ message: MQTTMessage) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any]
    }

    @Test(
        "10 simulated minutes, JWT with expiring tokens, 162 clients in pages of 100: never more than requests_per_minute in any rolling minute at the server, no 429; WAN values, trackers and the budget keep arriving on MQTT",
        .timeLimit(.minutes(15)))
    func budgetOverTenMinutes() async throws {
        var settings = FritzAcceleratedRun.Settings()
        settings.clients = FritzNetworkClient.defaultNetwork + FritzNetworkClient.extra(150)
        settings.maxPageSize = 100
        // Renewed before expiry every ~3 minutes, and once a 401 (all tokens revoked at 5:00).
        settings.tokenLifetime = .seconds(4 * 60)
        try await FritzAcceleratedRun.with(settings) { run in
            let settings = run.settings
            var revoked = false
            try await run.run(for: .seconds(600)) { elapsed in
                if !revoked && elapsed >= .seconds(300) {
                    run.simulator.expireTokens()
                    revoked = true
                }
            }
            let simulator = run.simulator
            let records = simulator.apiRequests

            // The budget, at the server.
            let busiest = simulator.maxRequests(inAnyWindow: .seconds(60))
            #expect(busiest <= settings.requestsPerMinute, "\(busiest) requests in one rolling minute")
            #expect(busiest <= settings.serverRateLimit)
            #expect(!records.contains { $0.status == 429 }, "\(records.filter { $0.status == 429 }.map(\.path))")
            #expect(records.count >= 60, "the budget is used, not starved: \(records.count) requests")
            #expect(simulator.state.logins >= 4, "login, renewals and a login after the revocation: \(simulator.state.logins)")
            #expect(records.contains { $0.status == 401 }, "the revoked token was refused once")
            #expect(records.contains { $0.path.hasSuffix("/devices") && $0.query.contains("offset=100") }, "paged")

            // New WAN (uptime) and bandwidth (bytes received) readings every simulated minute.
            let received = run.messages
            let values = received.filter { $0.message.topic == "api2mqtt/router" }.compactMap { item -> (Duration, [String: Any])? in
                Self.json(item.message).map { (item.at, $0) }
            }
            var uptimes: Set<Double> = []
            var bytes: Set<Double> = []
            for minute in 0..<10 {
                let inMinute = values.filter { $0.0 >= .seconds(minute * 60) && $0.0 < .seconds(minute * 60 + 60) }
                let newUptimes = Set(inMinute.compactMap { $0.1["wan_uptime"] as? Double }).subtracting(uptimes)
                let newBytes = Set(inMinute.compactMap { $0.1["bytes_received"] as? Double }).subtracting(bytes)
                #expect(!newUptimes.isEmpty && !newBytes.isEmpty, "minute \(minute): \(inMinute.count) messages, no new WAN or bandwidth reading")
                uptimes.formUnion(newUptimes)
                bytes.formUnion(newBytes)
            }
            #expect(values.contains { $0.1["external_ip"] as? String == simulator.state.cache?.wan.externalIP })
            #expect(values.last { $0.1["devices_total"] != nil }?.1["devices_total"] as? Double == 162)

            // Every client tracked, and each tracker ends where the simulator's network says.
            let configs = Set(received.map(\.message.topic).filter { $0.hasPrefix("homeassistant/device_tracker/router_") })
            #expect(configs.count == 162)
            let changes = run.clientChanges
            #expect(!changes.isEmpty, "mobile clients came and went")
            let end = run.clock.elapsed
            var checked = 0
            for client in simulator.state.clients {
                let topic = FritzAcceleratedRun.trackerTopic(client.id)
                let last = received.last { $0.message.topic == topic && FritzAcceleratedRun.presence($0.message) != nil }
                let since = changes.last { $0.id == client.id }?.at ?? .zero
                // Long enough in its state for a refresh and a devices read (and away_after when gone).
                let settled: Duration = client.isOnline ? .seconds(120) : .seconds(settings.awayAfterSeconds + 120)
                guard end - since >= settled else { continue }
                checked += 1
                #expect(last.flatMap { FritzAcceleratedRun.presence($0.message) } == (client.isOnline ? "home" : "not_home"), "\(client.name)")
            }
            #expect(checked >= 150)
            // Changes in the simulator reached MQTT as tracker changes.
            let trackerChanges = received.filter { $0.at > .zero && $0.message.topic.hasPrefix("api2mqtt/router_") && FritzAcceleratedRun.presence($0.message) != nil }
            #expect(!trackerChanges.isEmpty)

            // The budget left, in bridge/sources.
            let budgets = received.filter { $0.message.topic == "api2mqtt/bridge/sources" }.compactMap {
                (Self.json($0.message)?["router"] as? [String: Any])?["rate_budget_left"] as? Double
            }
            #expect(!budgets.isEmpty)
            #expect(budgets.allSatisfy { (0...Double(settings.requestsPerMinute)).contains($0) }, "\(budgets)")
        }
    }
}
