import BridgeCore
import Foundation
import Simulators
import Testing

/// The real-firmware quirks of `FIELD-NOTES.md`.
@Suite("Cozify HAN simulator: real-firmware quirks")
struct CozifyHANQuirkTests {
    static var unixSeconds: Double { Date().timeIntervalSince1970 }

    @Test("by default ts is in Unix milliseconds, as documented")
    func timestampsInMilliseconds() async throws {
        try await withHAN { simulator, http in
            let before = Int64((Self.unixSeconds * 1_000).rounded(.down))
            simulator.emitTelegramNow()
            let after = Int64((Self.unixSeconds * 1_000).rounded(.up))
            let ts = try #require(try await http.get("/meter").json?["ts"]?.integer)
            #expect((before...after).contains(ts))
        }
    }

    @Test("timestampsInSeconds sends ts in Unix seconds; disabled, milliseconds again")
    func timestampsInSeconds() async throws {
        try await withHAN(.test(quirks: [.timestampsInSeconds])) { simulator, http in
            let before = Int64(Self.unixSeconds.rounded(.down))
            simulator.emitTelegramNow()
            let after = Int64(Self.unixSeconds.rounded(.up))
            let ts = try #require(try await http.get("/meter").json?["ts"]?.integer)
            #expect((before...after).contains(ts))
            #expect(ts < 100_000_000_000, "FIELD-NOTES: values above 1e11 are milliseconds")

            simulator.faults.disable(.timestampsInSeconds)
            simulator.emitTelegramNow()
            #expect(try await http.get("/meter").json?["ts"]?.integer ?? 0 > 100_000_000_000)
        }
    }

    @Test("energyGlitch reports every register as 0 for the next telegram only; the registers then resume")
    func energyGlitch() async throws {
        try await withHAN { simulator, http in
            let before = simulator.emitTelegramNow()
            simulator.faults.enable(.energyGlitch, times: 1)
            let glitched = simulator.emitTelegramNow()
            #expect([glitched.ic, glitched.ec, glitched.ric, glitched.rec] == [0, 0, 0, 0])
            #expect(glitched.u.allSatisfy { (220...245).contains($0) }, "only the registers glitch")
            let meter = try #require(try await http.get("/meter").json)
            #expect([meter["ic"], meter["ec"], meter["ric"], meter["rec"]] == [.number(0), .number(0), .number(0), .number(0)])

            let after = simulator.emitTelegramNow()
            #expect(after.ic >= before.ic && after.ec >= before.ec && after.ric >= before.ric && after.rec >= before.rec)
            #expect(!simulator.faults.isEnabled(.energyGlitch))
        }
    }

    @Test("repeatTelegram sends the previous telegram again unchanged, on /meter and on the stream")
    func repeatTelegram() async throws {
        try await withHAN { simulator, http in
            let sse = try await SSEStream.open(http)
            defer { sse.cancel() }
            try await sse.events(atLeast: 1)
            try await eventually("the SSE stream to subscribe") { simulator.state.openStreams == 1 }

            let first = simulator.emitTelegramNow()
            simulator.faults.enable(.repeatTelegram, times: 2)
            #expect(simulator.emitTelegramNow() == first)
            #expect(simulator.emitTelegramNow() == first)
            #expect(try JSONDecoder().decode(CozifyHANTelegram.self, from: Data(try await http.get("/meter").body)) == first)
            let fresh = simulator.emitTelegramNow()
            #expect(fresh != first)
            #expect(fresh.ic >= first.ic)
            #expect(simulator.state.telegramCount == 4)

            let events = try await sse.events(atLeast: 5)
            let telegrams = try events.dropFirst().map { try JSONDecoder().decode(CozifyHANTelegram.self, from: Data($0.data.utf8)) }
            #expect(telegrams == [first, first, first, fresh])
        }
    }

    @Test("busLoss zeroes voltages, currents and powers while on; the registers keep their values")
    func busLoss() async throws {
        try await withHAN { simulator, http in
            let before = simulator.emitTelegramNow()
            simulator.faults.enable(.busLoss)
            for _ in 0..<3 {
                let lost = simulator.emitTelegramNow()
                #expect(lost.u == [0, 0, 0] && lost.i == [0, 0, 0])
                #expect([lost.p, lost.pi, lost.pe, lost.r, lost.ri, lost.re].allSatisfy { $0 == [0, 0, 0, 0] })
                #expect(lost.ic >= before.ic && lost.ec >= before.ec && lost.ic > 0)
            }
            let meter = try #require(try await http.get("/meter").json)
            #expect(meter["u"]?.numbers == [0, 0, 0])
            #expect(meter["pi"]?.numbers == [0, 0, 0, 0])
            #expect((meter["ic"]?.number ?? 0) > 0)

            simulator.faults.disable(.busLoss)
            let back = simulator.emitTelegramNow()
            #expect(MeterPhysics.violations(back) == [])
        }
    }

    @Test("realFirmwareQuirks switches the always-on quirks on, and only those")
    func realFirmware() async throws {
        try await withHAN(.test(quirks: CozifyHANSimulator.realFirmwareQuirks)) { simulator, http in
            #expect(simulator.faults.enabledQuirks == [.timestampsInSeconds, .unknownMessageTypes, .sseKeepAlive, .looseContentType])
            simulator.emitTelegramNow()
            let meter = try await http.get("/meter")
            #expect(meter.headers["content-type"] == "text/html")
            #expect(meter.json?["ts"]?.integer ?? .max < 100_000_000_000)
            #expect(MeterPhysics.violations(try JSONDecoder().decode(CozifyHANTelegram.self, from: Data(meter.body))) == [])
        }
    }
}
