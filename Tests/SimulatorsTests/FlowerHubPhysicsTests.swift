import BridgeCore
import Foundation
import Simulators
import Testing

/// The simulated battery system over simulated time: no sockets needed except where the documents are read.
@Suite("FlowerHub simulator: physics")
struct FlowerHubPhysicsTests {
    @Test("ticks advance the clock; this month's uptime and consumption grow")
    func growth() {
        let simulator = FlowerHubSimulator(configuration: .test())
        let start = simulator.state
        #expect(start.now == flowerHubTestStart)
        #expect(start.consumption == 0)
        simulator.tick()
        #expect(simulator.state.now == flowerHubTestStart.addingTimeInterval(60))
        simulator.advance(by: .seconds(6 * 3600))
        let later = simulator.state
        #expect(later.uptimeSeconds + later.downtimeSeconds == 6 * 3600 + 60)
        #expect(later.consumption > 6 * 0.2 && later.consumption < 6 * 2.1, "0.2–2 kW: \(later.consumption) kWh")
    }

    @Test("equal seeds give equal runs; another seed another one")
    func deterministic() {
        func run(seed: UInt64) -> (Double, Double, Int) {
            let simulator = FlowerHubSimulator(configuration: .test(seed: seed))
            simulator.advance(by: .seconds(3 * 86_400))
            let state = simulator.state
            return (state.consumption, state.uptimeSeconds, state.disconnections)
        }
        #expect(run(seed: 3) == run(seed: 3))
        #expect(run(seed: 3).0 != run(seed: 4).0)
    }

    @Test("the system drops to Disconnected now and then and comes back; downtime accumulates")
    func disconnections() {
        let simulator = FlowerHubSimulator(configuration: .test())
        var sawDisconnected = false
        for _ in 0..<(10 * 24) {
            simulator.advance(by: .seconds(3600))
            if simulator.state.status == "Disconnected" { sawDisconnected = true }
        }
        let state = simulator.state
        #expect(state.disconnections > 0)
        #expect(state.downtimeSeconds > 0)
        #expect(state.uptimePercent < 100 && state.uptimePercent > 80)
        #expect(sawDisconnected || state.disconnections > 0)
    }

    @Test("forceStatus holds the status against the physics; releaseStatus lets it go")
    func forcedStatus() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            simulator.forceStatus(.disconnected)
            simulator.advance(by: .seconds(3600))
            try await client.login()  // the access cookie lasts 15 simulated minutes
            let asset = try #require(try await client.get("/asset/\(client.asset)").json)
            #expect(asset["flowerHubStatus"]?["status"]?.string == "Disconnected")
            #expect(asset["flowerHubStatus"]?["message"]?.string == FlowerHubSimulator.BatteryStatus.disconnected.message)
            #expect(simulator.state.downtimeSeconds == 3600)
            simulator.forceStatus(FlowerHubSimulator.BatteryStatus(status: "Maintenance", message: "Firmware update"))
            #expect(try await client.get("/asset/\(client.asset)").json?["flowerHubStatus"]?["status"]?.string == "Maintenance")
            simulator.forceStatus(.connected)
            simulator.releaseStatus()
            #expect(simulator.state.status == "Connected")
        }
    }

    @Test("a month end closes the month: history, a new invoice, a Reading; the new month starts at zero")
    func monthEnd() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            let before = simulator.state
            simulator.advance(by: .seconds(18 * 86_400))  // 2026-04-01T10:00Z
            let after = simulator.state
            #expect(after.month == "2026-04")
            #expect(after.invoiceCount == before.invoiceCount + 1)
            #expect(after.uptimeSeconds + after.downtimeSeconds == 10 * 3600)
            simulator.expireAccessCookies()
            try await client.login()
            let invoices = try #require(try await client.get("/asset-owner/\(client.owner)/invoice").json?.array)
            #expect(invoices.first?["invoice_period"]?.string == "March 2026")
            #expect(invoices.first?["invoice_status"]?.string == "Unpaid")
            #expect(invoices.dropFirst().first?["invoice_status"]?.string == "Paid")
            let readings = try #require(try await client.get("/asset-owner/\(client.owner)/consumption").json?.array)
            #expect(readings.last?["invoiced_month"]?.string == "2026-04-01")
            let march = try #require(readings.dropLast().last)
            #expect(march["type"]?.string == "Reading")
            #expect(march["valid_to"]?.string == "2026-03-31")
            let months = try #require(try await client.get("/asset-uptime/available-months/\(client.asset)").json?.array)
            #expect(months.last?["value"]?.string == "2026-04")
            let pie = try #require(try await client.get("/asset-uptime/pie-chart/\(client.asset)?period=2026-03").json?.array)
            let seconds = pie.compactMap { $0["value"]?.number }
            #expect(seconds.reduce(0, +) == 31 * 86_400, "March is closed: every second accounted for")
        }
    }

    @Test("the automatic ticker advances the clock in real time when a tick interval is set")
    func ticker() async throws {
        var configuration = FlowerHubSimulator.Configuration.test()
        configuration.tickInterval = .milliseconds(20)
        try await withFlowerHub(configuration) { simulator, _ in
            try await eventually("three ticks") { simulator.state.now >= flowerHubTestStart.addingTimeInterval(0.06) }
        }
    }
}
