import BridgeCore
import Simulators
import Testing

/// The simulated 16S LiFePO4 pack and the threshold alerts, driven by ticks (no server needed for
/// the physics; alerts are read back over HTTP).
@Suite("TinyBMS simulator: pack physics and threshold alerts")
struct TinyBMSPhysicsTests {
    @Test("deterministic: equal seeds give equal frames; another seed differs")
    func deterministic() {
        let a = TinyBMSSimulator(configuration: .test(seed: 7))
        let b = TinyBMSSimulator(configuration: .test(seed: 7))
        let c = TinyBMSSimulator(configuration: .test(seed: 8))
        #expect(a.tick(100) == b.tick(100))
        #expect(a.state.cellMillivolts == b.state.cellMillivolts)
        #expect(a.tick() != c.tick(101))
    }

    @Test("a long run stays physical: 16 cells in 2.5–3.65 V, pack 40–58.4 V, spread a few mV, SOC in 0–100 and moving")
    func plausibleLongRun() {
        let simulator = TinyBMSSimulator(configuration: .test(tickInterval: .seconds(10)))
        var socs: [Double] = []
        for _ in 0..<2_000 {
            simulator.tick()
            let state = simulator.state
            socs.append(state.stateOfCharge)
            #expect(state.cellMillivolts.count == 16)
            #expect(state.cellMillivolts.allSatisfy { (2_500...3_650).contains($0) }, "\(state.cellMillivolts)")
            #expect((40...58.4).contains(state.packVoltage))
            let spread = (state.cellMillivolts.max() ?? 0) - (state.cellMillivolts.min() ?? 0)
            #expect((1...60).contains(spread), "spread \(spread) mV")
            #expect((0...100).contains(state.stateOfCharge))
            #expect(abs(state.packVoltage * 1000 - state.cellMillivolts.reduce(0, +)) < 16)
        }
        #expect((socs.max() ?? 0) - (socs.min() ?? 0) > 10, "the load profile charges and discharges")
    }

    @Test("SOC follows the current: +50 A for an hour adds 50 % of 100 Ah, −50 A takes it away")
    func socFollowsCurrent() {
        let simulator = TinyBMSSimulator(configuration: .test(tickInterval: .seconds(10)))
        simulator.setStateOfCharge(30)
        simulator.hold(current: 50)
        simulator.tick(360)
        #expect(abs(simulator.state.stateOfCharge - 80) < 0.01)
        #expect(simulator.state.status == "CHARGING")
        #expect(simulator.state.energyChargedKWh > 2.4, "about 50 A × 52 V × 1 h")
        simulator.hold(current: -50)
        simulator.tick(360)
        #expect(abs(simulator.state.stateOfCharge - 30) < 0.01)
        #expect(simulator.state.status == "DISCHARGING")
        #expect(simulator.state.energyDischargedKWh > 2.4)
    }

    @Test("balancing: only cells above ~3.4 V and above the lowest cell balance, only while charging")
    func balancing() {
        let simulator = TinyBMSSimulator(configuration: .test())
        simulator.setStateOfCharge(99)
        simulator.hold(current: 20)
        simulator.tick()
        let charging = simulator.state
        #expect(charging.balancing.contains(true))
        let lowest = charging.cellMillivolts.min() ?? 0
        for (millivolts, balancing) in zip(charging.cellMillivolts, charging.balancing) where balancing {
            #expect(millivolts >= 3_400 && millivolts > lowest)
        }
        #expect(!charging.balancing[charging.cellMillivolts.firstIndex(of: lowest) ?? 0])
        simulator.hold(current: -20)
        simulator.tick()
        #expect(!simulator.state.balancing.contains(true))
        simulator.setStateOfCharge(50)
        simulator.hold(current: 20)
        simulator.tick()
        #expect(!simulator.state.balancing.contains(true), "mid-plateau cells are below 3.4 V")
    }

    @Test("temperature follows the current: sustained 80 A heats the pack well above ambient; at rest it cools back")
    func temperatureFollowsCurrent() {
        let simulator = TinyBMSSimulator(configuration: .test(tickInterval: .seconds(10)))
        simulator.setStateOfCharge(10)
        let start = simulator.state.temperature
        simulator.hold(current: 80)
        simulator.tick(300)
        let hot = simulator.state.temperature
        #expect(hot > start + 20, "\(start) → \(hot)")
        simulator.hold(current: 0)
        simulator.tick(300)
        #expect(simulator.state.temperature < hot - 20)
    }

    @Test("a temperature alert is raised after the debounce, once, and resolved when the temperature falls back")
    func temperatureAlertDebounce() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.hold(temperature: 48)
            simulator.tick(60)
            #expect(simulator.state.activeAlerts.isEmpty, "59 s over the threshold: still within the 60 s debounce")
            simulator.tick()
            let active = try #require(try await http.get("/api/alerts/active").json?["alerts"]?.array)
            #expect(active.count == 1)
            #expect(active[0]["type"]?.integer == 1 && active[0]["severity"]?.integer == 2)
            #expect(active[0]["message"]?.string?.contains("45") == true)
            simulator.tick(200)
            #expect(simulator.state.alerts.count == 1, "no second alert while the condition holds")
            simulator.hold(temperature: 30)
            simulator.tick()
            #expect(simulator.state.activeAlerts.isEmpty)
            #expect(simulator.state.alerts.first?.status == .resolved)
        }
    }

    @Test("cell voltage alerts follow the thresholds, and a disabled threshold raises nothing")
    func cellAlerts() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            #expect(try await http.post("/api/alerts/config", body: #"{"debounce_sec":0,"cell_voltage_max_mv":3600}"#).status == 200)
            simulator.hold(cell: 4, millivolts: 3_620)
            simulator.tick()
            let high = try #require(simulator.state.activeAlerts.first)
            #expect(high.type == 3 && high.message.contains("Cell 5"))
            simulator.hold(cell: 4, millivolts: nil)
            #expect(try await http.post("/api/alerts/config", body: #"{"cell_volt_low_enabled":false}"#).status == 200)
            simulator.hold(cell: 2, millivolts: 2_700)
            simulator.tick(5)
            #expect(!simulator.state.alerts.contains { $0.type == 4 })
            #expect(try await http.post("/api/alerts/config", body: #"{"cell_volt_low_enabled":true}"#).status == 200)
            simulator.tick()
            #expect(simulator.state.activeAlerts.map(\.type) == [4])
        }
    }
}
