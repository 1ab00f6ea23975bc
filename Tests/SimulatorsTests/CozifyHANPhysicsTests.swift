import BridgeCore
import Foundation
import Simulators
import Testing

/// The generated meter data is physically consistent and deterministic.
@Suite("Cozify HAN simulator: three-phase physics")
struct CozifyHANPhysicsTests {
    static func telegrams(seed: UInt64, count: Int = 200) -> [CozifyHANTelegram] {
        var generator = CozifyHANDataGenerator(seed: seed)
        return (0..<count).map { generator.next(timestamp: 1_735_682_400_000 + Int64($0) * 10_000) }
    }

    @Test(
        "no phase imports and exports at once, 220–245 V, currents fit the power, registers never go back",
        arguments: [1, 42, 2024, 7_777] as [UInt64]
    )
    func invariants(seed: UInt64) throws {
        let telegrams = Self.telegrams(seed: seed)
        #expect(MeterPhysics.violations(telegrams) == [])
        let first = try #require(telegrams.first), last = try #require(telegrams.last)
        #expect(last.ic + last.ec > first.ic + first.ec, "the energy registers never moved")
    }

    @Test("the checks catch broken telegrams")
    func checksCatchViolations() throws {
        let good = try #require(Self.telegrams(seed: 1, count: 2).last)
        var both = good
        both.pi[1] = 100
        both.pe[1] = 50
        #expect(MeterPhysics.violations(both).contains { $0.contains("imports") })
        var lowVoltage = good
        lowVoltage.u[0] = 200
        #expect(!MeterPhysics.violations(lowVoltage).isEmpty)
        var wrongCurrent = good
        wrongCurrent.i[2] += 5
        #expect(!MeterPhysics.violations(wrongCurrent).isEmpty)
        var backwards = good
        backwards.ic -= 1
        #expect(MeterPhysics.violations([good, backwards]).contains { $0.contains("backwards") })
    }

    @Test("the data is lively: phases import and export, power and voltage vary")
    func lively() {
        let telegrams = (1...4).flatMap { Self.telegrams(seed: UInt64($0)) }
        #expect(telegrams.contains { $0.pi[1...3].contains { $0 > 0 } })
        #expect(telegrams.contains { $0.pe[1...3].contains { $0 > 0 } })
        #expect(Set(telegrams.map { $0.pi[0] }).count > 100)
        #expect(Set(telegrams.map { $0.u[0] }).count > 10)
    }

    @Test("equal seeds give equal data, other seeds other data")
    func deterministic() {
        #expect(Self.telegrams(seed: 5, count: 50) == Self.telegrams(seed: 5, count: 50))
        #expect(Self.telegrams(seed: 5, count: 50) != Self.telegrams(seed: 6, count: 50))
    }

    @Test("energy integrates the total power over the meter step")
    func energyIntegration() {
        var generator = CozifyHANDataGenerator(seed: 3, meterStep: .seconds(3_600), importEnergy: 100, exportEnergy: 10)
        let telegram = generator.next(timestamp: 0)
        #expect(abs(telegram.ic - (100 + telegram.pi[0] / 1_000)) < 0.001)
        #expect(abs(telegram.ec - (10 + telegram.pe[0] / 1_000)) < 0.001)
        #expect(abs(telegram.ric - (20 + telegram.ri[0] / 1_000)) < 0.001)
        #expect(abs(telegram.rec - (2 + telegram.re[0] / 1_000)) < 0.001)
    }

    @Test("a simulator's telegrams keep the invariants, are all kept, and carry millisecond timestamps")
    func simulatorTelegrams() throws {
        let simulator = CozifyHANSimulator(configuration: .test())
        let sent = (0..<200).map { _ in simulator.emitTelegramNow() }
        #expect(simulator.state.telegramCount == 200)
        #expect(simulator.state.telegrams == sent)
        #expect(MeterPhysics.violations(sent) == [])
        #expect(sent.allSatisfy { $0.ts > 100_000_000_000 })
    }

    @Test("the simulator keeps the last 1000 telegrams and counts them all")
    func history() {
        let simulator = CozifyHANSimulator(configuration: .test())
        var last: CozifyHANTelegram?
        for _ in 0..<1_005 { last = simulator.emitTelegramNow() }
        let state = simulator.state
        #expect(state.telegramCount == 1_005)
        #expect(state.telegrams.count == 1_000)
        #expect(state.lastTelegram == last)
    }
}
