import BridgeCore
import Simulators
import Testing

/// The simulated sessions: deterministic, tapering near full, advancing registers, finishing.
@Suite("OCPP CSMS simulator: sessions")
struct OCPPCSMSPhysicsTests {
    /// Runs a session from `stateOfCharge` for `ticks` ticks on a fresh simulator (no server needed).
    static func run(seed: UInt64, stateOfCharge: Double, ticks: Int) throws -> [OCPPCSMSState] {
        let simulator = OCPPCSMSSimulator(configuration: .test(seed: seed))
        try simulator.plugIn(chargePointID: "CP001", connectorID: 1, idTag: "TAG001", stateOfCharge: stateOfCharge)
        return (0..<ticks).map { _ in
            simulator.tick()
            return simulator.state
        }
    }

    @Test("equal seeds give equal sessions; another seed gives other ones")
    func deterministic() throws {
        let first = try Self.run(seed: 7, stateOfCharge: 20, ticks: 20).map { $0.transactions.map(\.consumedEnergy) }
        let second = try Self.run(seed: 7, stateOfCharge: 20, ticks: 20).map { $0.transactions.map(\.consumedEnergy) }
        let other = try Self.run(seed: 8, stateOfCharge: 20, ticks: 20).map { $0.transactions.map(\.consumedEnergy) }
        #expect(first == second)
        #expect(first != other)
    }

    @Test("power stays within the connector's rating and the car's limit; it tapers above 80 % and the energy register never goes back")
    func taper() throws {
        let states = try Self.run(seed: 3, stateOfCharge: 70, ticks: 400)
        let sessions = states.compactMap { $0.transactions.first }
        let charging = sessions.filter { !$0.isFinished && $0.stateOfCharge < 100 }
        #expect(charging.allSatisfy { $0.power > 0 && Double($0.power) <= min(22_000, $0.carMaximumPower) })
        let early = try #require(charging.first { $0.stateOfCharge < 78 })
        let late = try #require(charging.last { $0.stateOfCharge > 95 })
        #expect(late.power < early.power / 2, "tapering: \(early.power) W at \(early.stateOfCharge) %, \(late.power) W at \(late.stateOfCharge) %")
        let registers = states.compactMap { $0.connector("CP001", 1)?.energyRegister }
        #expect(zip(registers, registers.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(registers.last ?? 0 > registers.first ?? 0)
    }

    @Test("a full car goes SuspendedEV, then unplugs: the transaction finishes (EVDisconnected) and the connector becomes Available")
    func finishes() throws {
        let states = try Self.run(seed: 5, stateOfCharge: 99.9, ticks: 40)
        let statuses = states.compactMap { $0.connector("CP001", 1)?.status }
        #expect(statuses.contains("SuspendedEV"))
        #expect(statuses.contains("Finishing"))
        #expect(statuses.last == "Available")
        let transaction = try #require(states.last?.transactions.first)
        #expect(transaction.isFinished && transaction.reason == "EVDisconnected")
        #expect(transaction.power == 0)
    }

    @Test("1,000 charge points x 2 connectors: /chp renders every point, cached between changes")
    func fleet() async throws {
        try await withCSMS(.test(chargePoints: OCPPCSMSSimulator.ChargePointSpec.fleet(count: 1_000))) { simulator, client in
            try Task.checkCancellation()
            let first = try await client.get("/api/v1/chp")
            let points = try #require(first.json?.array)
            #expect(points.count == 1_000)
            #expect(points.allSatisfy { $0["connectors"]?.array?.count == 2 })
            #expect(try await client.get("/api/v1/chp").body == first.body, "unchanged between ticks")
            try simulator.plugIn(chargePointID: "CP0500", connectorID: 2, idTag: "TAG001")
            let changed = try #require(try await client.get("/api/v1/chp").json?.array)
            #expect(changed[499]["connectors"]?[1]?["status"]?.string == "Charging")
        }
    }
}
