import Testing

@testable import BridgeCore

@Suite("CounterGuard")
struct CounterGuardTests {
    /// Every test steps time by hand from this instant: no sleeps, no real clock reads after it.
    let base = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant {
        base + .seconds(seconds)
    }

    /// Feeds readings 10 s apart from `start`, returning the verdicts.
    func feed(_ counter: inout CounterGuard, _ values: [Double], from start: Int = 0) -> [CounterGuard.Verdict] {
        values.enumerated().map { index, value in
            counter.check(key: "e", value: value, now: at(start + 10 * index))
        }
    }

    @Test("The first reading, rises and repeats are accepted")
    func acceptsRisingAndEqual() {
        var counter = CounterGuard()
        #expect(feed(&counter, [100, 100.5, 100.5, 101]) == [.accepted, .accepted, .accepted, .accepted])
        #expect(counter.lastAccepted(key: "e") == 101)
    }

    @Test("A glitch to 0 is withheld and the true value afterwards is accepted, so 0 never goes out")
    func zeroGlitchThenRecovery() {
        var counter = CounterGuard()
        let verdicts = feed(&counter, [12_345.6, 0, 0, 12_345.7])
        #expect(verdicts == [.accepted, .withheld(.zero, firstTime: true), .withheld(.zero, firstTime: false), .accepted])
        #expect(verdicts[1...2].allSatisfy { !$0.publishes })
        #expect(counter.lastAccepted(key: "e") == 12_345.7)
    }

    @Test("A drop, such as a repeated stale register, is withheld until the value recovers")
    func dropThenRecovery() {
        var counter = CounterGuard()
        let verdicts = feed(&counter, [500, 498.2, 498.2, 500])
        #expect(verdicts == [.accepted, .withheld(.decrease, firstTime: true), .withheld(.decrease, firstTime: false), .accepted])
        #expect(counter.lastAccepted(key: "e") == 500)
    }

    @Test("firstTime is true once per run, and again for the next run after a recovery")
    func firstTimeOncePerRun() {
        var counter = CounterGuard(persistence: 10)
        let verdicts = feed(&counter, [100, 0, 50, 7, 0, 101, 90, 95])
        #expect(verdicts.map(\.firstTimeFlag) == [nil, true, false, false, false, nil, true, false])
    }

    @Test("Three consistent lower readings are a genuine reset: the latest becomes the baseline")
    func consistentDropIsReset() {
        var counter = CounterGuard()
        let verdicts = feed(&counter, [1_000, 0.1, 0.2, 0.2, 0.3, 999])
        #expect(verdicts == [
            .accepted,
            .withheld(.decrease, firstTime: true),
            .withheld(.decrease, firstTime: false),
            .acceptedReset(previous: 1_000),
            .accepted,
            .accepted,
        ])
    }

    @Test("A meter restarting from exactly 0 is a reset too")
    func zeroesThenCountingIsReset() {
        var counter = CounterGuard()
        #expect(feed(&counter, [1_000, 0, 0, 0.1]).last == .acceptedReset(previous: 1_000))
        #expect(counter.lastAccepted(key: "e") == 0.1)
    }

    @Test("Noisy lower readings are not consistent and never become a reset")
    func noisyDropsNotAccepted() {
        var counter = CounterGuard()
        let verdicts = feed(&counter, [1_000, 5, 3, 7, 2, 8, 1, 6, 0.5])
        #expect(verdicts.dropFirst().allSatisfy { !$0.publishes })
        #expect(counter.lastAccepted(key: "e") == 1_000)
    }

    @Test("Noise restarts the streak: consistency counts from the last decrease")
    func streakRestartsAfterNoise() {
        var counter = CounterGuard()
        let verdicts = feed(&counter, [1_000, 5, 3, 4, 6])
        #expect(Array(verdicts.dropFirst()) == [
            .withheld(.decrease, firstTime: true),
            .withheld(.decrease, firstTime: false),
            .withheld(.decrease, firstTime: false),
            .acceptedReset(previous: 1_000),
        ])
    }

    @Test("A reset reported by the source is accepted at once")
    func sourceSaysReset() {
        var counter = CounterGuard()
        _ = counter.check(key: "e", value: 42, now: at(0))
        #expect(counter.check(key: "e", value: 0, now: at(1), sourceSaysReset: true) == .acceptedReset(previous: 42))
        #expect(counter.check(key: "e", value: 0.5, now: at(2)) == .accepted)
        // Mid-run too: the withheld run ends with it.
        _ = counter.check(key: "e", value: 0.1, now: at(3))
        #expect(counter.check(key: "e", value: 0.2, now: at(4), sourceSaysReset: true) == .acceptedReset(previous: 0.5))
        #expect(counter.check(key: "e", value: 0.1, now: at(5)) == .withheld(.decrease, firstTime: true))
        // A rise flagged as reset is just a rise.
        #expect(counter.check(key: "e", value: 3, now: at(6), sourceSaysReset: true) == .accepted)
    }

    @Test("persistence is configurable", arguments: [1, 2, 5])
    func configurablePersistence(persistence: Int) {
        var counter = CounterGuard(persistence: persistence)
        let verdicts = feed(&counter, [100] + Array(repeating: 1, count: persistence))
        #expect(verdicts.dropFirst().dropLast().allSatisfy { !$0.publishes })
        #expect(verdicts.last == .acceptedReset(previous: 100))
    }

    @Test("With a persistence duration the lower readings must also span that long")
    func persistenceDuration() {
        var counter = CounterGuard(persistence: 3, persistenceDuration: .seconds(60))
        _ = counter.check(key: "e", value: 100, now: at(0))
        #expect(counter.check(key: "e", value: 1, now: at(10)) == .withheld(.decrease, firstTime: true))
        #expect(counter.check(key: "e", value: 1, now: at(20)) == .withheld(.decrease, firstTime: false))
        #expect(counter.check(key: "e", value: 1, now: at(30)) == .withheld(.decrease, firstTime: false))
        #expect(counter.check(key: "e", value: 1.1, now: at(69)) == .withheld(.decrease, firstTime: false))
        #expect(counter.check(key: "e", value: 1.1, now: at(70)) == .acceptedReset(previous: 100))
    }

    @Test("A first reading of 0 is withheld, so a start-up glitch of 0 followed by the true value never emits the 0")
    func firstZeroThenTrueValue() {
        var counter = CounterGuard()
        let verdicts = feed(&counter, [0, 0, 12_345.6])
        #expect(verdicts == [.withheld(.zero, firstTime: true), .withheld(.zero, firstTime: false), .accepted])
    }

    @Test("A counter that really stands at 0 is published once the 0 persists")
    func firstZeroPersists() {
        var counter = CounterGuard()
        #expect(feed(&counter, [0, 0, 0, 0]) == [
            .withheld(.zero, firstTime: true), .withheld(.zero, firstTime: false), .accepted, .accepted,
        ])
        var flagged = CounterGuard()
        #expect(flagged.check(key: "e", value: 0, now: at(0), sourceSaysReset: true) == .accepted)
    }

    @Test("NaN and infinity are withheld and break a reset streak")
    func notFinite() {
        var counter = CounterGuard()
        let verdicts = feed(&counter, [100, 1, .nan, 1, 1, .infinity, 1, 1, 1])
        #expect(verdicts[2] == .withheld(.notFinite, firstTime: false))
        #expect(verdicts[5] == .withheld(.notFinite, firstTime: false))
        #expect(verdicts.dropFirst().dropLast().allSatisfy { !$0.publishes })
        #expect(verdicts.last == .acceptedReset(previous: 100))
        var fresh = CounterGuard()
        #expect(fresh.check(key: "e", value: .nan, now: at(0)) == .withheld(.notFinite, firstTime: true))
        #expect(fresh.check(key: "e", value: 5, now: at(1)) == .accepted)
    }

    @Test("Keys are independent; forget(key:) and forgetAll() make the next reading the first")
    func keysAndForget() {
        var counter = CounterGuard()
        _ = counter.check(key: "import", value: 100, now: at(0))
        _ = counter.check(key: "export", value: 50, now: at(0))
        #expect(counter.check(key: "export", value: 40, now: at(1)) == .withheld(.decrease, firstTime: true))
        #expect(counter.check(key: "import", value: 101, now: at(1)) == .accepted)

        counter.forget(key: "export")
        #expect(counter.lastAccepted(key: "export") == nil)
        #expect(counter.check(key: "export", value: 40, now: at(2)) == .accepted)
        #expect(counter.check(key: "import", value: 90, now: at(2)) == .withheld(.decrease, firstTime: true))

        counter.forgetAll()
        #expect(counter.check(key: "import", value: 90, now: at(3)) == .accepted)
    }

    @Test("A seeded baseline, such as the retained state after a restart, guards the first reading")
    func seed() {
        var counter = CounterGuard()
        counter.seed(key: "e", lastAccepted: 12_345.6)
        #expect(counter.check(key: "e", value: 12_000, now: at(0)) == .withheld(.decrease, firstTime: true))
        #expect(counter.check(key: "e", value: 12_345.7, now: at(10)) == .accepted)
    }
}

extension CounterGuard.Verdict {
    /// The `firstTime` of a withheld verdict, `nil` for one that publishes.
    var firstTimeFlag: Bool? {
        if case .withheld(_, let firstTime) = self { return firstTime }
        return nil
    }
}
