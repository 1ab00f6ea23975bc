import Testing

@testable import BridgeCore

@Suite("ChangeFilter")
struct ChangeFilterTests {
    /// Every test steps time by hand from this instant: no sleeps, no real clock reads after it.
    let base = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant {
        base + .seconds(seconds)
    }

    @Test("The first value of a key is published")
    func firstValuePublishes() {
        var filter = ChangeFilter<String>()
        #expect(filter.offer(key: "a", value: "1", now: at(0)) == .publish("1"))
        #expect(filter.offer(key: "b", value: "1", now: at(0)) == .publish("1"))
        #expect(filter.nextDeadline == nil)
    }

    @Test("A changed value is published at once when the key has no debounce")
    func changePublishes() {
        var filter = ChangeFilter<String>()
        _ = filter.offer(key: "a", value: "1", now: at(0))
        #expect(filter.offer(key: "a", value: "2", now: at(0)) == .publish("2"))
        #expect(filter.offer(key: "a", value: "3", now: at(1)) == .publish("3"))
    }

    @Test("Unchanged values are never republished without a republish interval")
    func unchangedWithoutInterval() {
        var filter = ChangeFilter<String>()
        _ = filter.offer(key: "a", value: "1", now: at(0))
        #expect(filter.offer(key: "a", value: "1", now: at(1)) == .suppress)
        #expect(filter.offer(key: "a", value: "1", now: at(86_400)) == .suppress)
    }

    @Test("Unchanged values go out again once per republish interval, counted from the last publish")
    func republishInterval() {
        var filter = ChangeFilter<String>(republishInterval: .seconds(60))
        #expect(filter.offer(key: "a", value: "1", now: at(0)) == .publish("1"))
        #expect(filter.offer(key: "a", value: "1", now: at(59)) == .suppress)
        #expect(filter.offer(key: "a", value: "1", now: at(60)) == .publish("1"))
        #expect(filter.offer(key: "a", value: "1", now: at(61)) == .suppress)
        // A change restarts the interval.
        #expect(filter.offer(key: "a", value: "2", now: at(100)) == .publish("2"))
        #expect(filter.offer(key: "a", value: "2", now: at(150)) == .suppress)
        #expect(filter.offer(key: "a", value: "2", now: at(160)) == .publish("2"))
    }

    @Test("The republish interval is kept per key")
    func republishIntervalPerKey() {
        var filter = ChangeFilter<String>(republishInterval: .seconds(60))
        _ = filter.offer(key: "a", value: "1", now: at(0))
        _ = filter.offer(key: "b", value: "1", now: at(30))
        #expect(filter.offer(key: "a", value: "1", now: at(60)) == .publish("1"))
        #expect(filter.offer(key: "b", value: "1", now: at(60)) == .suppress)
        #expect(filter.offer(key: "b", value: "1", now: at(90)) == .publish("1"))
    }

    @Test("Debounce holds changes inside the window and releases only the newest when it ends")
    func debounceHoldsThenReleasesLatest() {
        var filter = ChangeFilter<String>()
        let debounce = Duration.seconds(5)
        #expect(filter.offer(key: "p", value: "100", debounce: debounce, now: at(0)) == .publish("100"))
        #expect(filter.offer(key: "p", value: "110", debounce: debounce, now: at(1)) == .hold(until: at(5)))
        #expect(filter.offer(key: "p", value: "120", debounce: debounce, now: at(3)) == .hold(until: at(5)))
        #expect(filter.nextDeadline == at(5))
        #expect(filter.due(now: at(4)).isEmpty)

        let released = filter.due(now: at(5))
        #expect(released.map(\.key) == ["p"])
        #expect(released.map(\.value) == ["120"])
        #expect(filter.nextDeadline == nil)
        #expect(filter.due(now: at(6)).isEmpty)
        // The released value counts as published: repeating it is suppressed.
        #expect(filter.offer(key: "p", value: "120", debounce: debounce, now: at(6)) == .suppress)
    }

    @Test("A released value opens a new debounce window from the instant it went out")
    func releaseOpensNewWindow() {
        var filter = ChangeFilter<String>()
        let debounce = Duration.seconds(5)
        _ = filter.offer(key: "p", value: "1", debounce: debounce, now: at(0))
        _ = filter.offer(key: "p", value: "2", debounce: debounce, now: at(1))
        #expect(filter.due(now: at(7)).map(\.value) == ["2"])
        #expect(filter.offer(key: "p", value: "3", debounce: debounce, now: at(8)) == .hold(until: at(12)))
        #expect(filter.offer(key: "p", value: "4", debounce: debounce, now: at(12)) == .publish("4"))
        #expect(filter.nextDeadline == nil)
    }

    @Test("A change after the debounce window is published at once")
    func debounceChangeAfterWindow() {
        var filter = ChangeFilter<String>()
        _ = filter.offer(key: "p", value: "1", debounce: .seconds(5), now: at(0))
        #expect(filter.offer(key: "p", value: "2", debounce: .seconds(5), now: at(5)) == .publish("2"))
        #expect(filter.nextDeadline == nil)
    }

    @Test("A value back to the last published one before the window ends publishes nothing")
    func debounceReturnToPublished() {
        var filter = ChangeFilter<String>()
        _ = filter.offer(key: "p", value: "1", debounce: .seconds(5), now: at(0))
        #expect(filter.offer(key: "p", value: "2", debounce: .seconds(5), now: at(1)) == .hold(until: at(5)))
        #expect(filter.offer(key: "p", value: "1", debounce: .seconds(5), now: at(2)) == .suppress)
        #expect(filter.nextDeadline == nil)
        #expect(filter.due(now: at(10)).isEmpty)
    }

    @Test("A held value superseded after its deadline, before due() ran, is replaced by the newer one")
    func heldSupersededAfterDeadline() {
        var filter = ChangeFilter<String>()
        _ = filter.offer(key: "p", value: "1", debounce: .seconds(5), now: at(0))
        _ = filter.offer(key: "p", value: "2", debounce: .seconds(5), now: at(1))
        #expect(filter.offer(key: "p", value: "3", debounce: .seconds(5), now: at(6)) == .publish("3"))
        #expect(filter.due(now: at(6)).isEmpty)
    }

    @Test("Debounce also spaces republishes of unchanged values")
    func debounceLongerThanRepublish() {
        var filter = ChangeFilter<String>(republishInterval: .seconds(10))
        _ = filter.offer(key: "p", value: "1", debounce: .seconds(30), now: at(0))
        #expect(filter.offer(key: "p", value: "1", debounce: .seconds(30), now: at(10)) == .suppress)
        #expect(filter.offer(key: "p", value: "1", debounce: .seconds(30), now: at(30)) == .publish("1"))
    }

    @Test("due() releases several keys ordered by deadline, then key, and keeps later ones held")
    func dueOrdering() {
        var filter = ChangeFilter<String>()
        for key in ["c", "b", "a"] {
            _ = filter.offer(key: key, value: "0", debounce: .seconds(10), now: at(key == "a" ? 2 : 0))
        }
        for key in ["c", "b", "a"] {
            _ = filter.offer(key: key, value: "1", debounce: .seconds(10), now: at(3))
        }
        #expect(filter.nextDeadline == at(10))
        #expect(filter.due(now: at(11)).map(\.key) == ["b", "c"])
        #expect(filter.nextDeadline == at(12))
        #expect(filter.due(now: at(12)).map(\.key) == ["a"])
        #expect(filter.nextDeadline == nil)
    }

    @Test("After reset() the next offer of every key publishes, even unchanged and inside a window")
    func resetAfterReconnect() {
        var filter = ChangeFilter<String>()
        _ = filter.offer(key: "a", value: "1", now: at(0))
        _ = filter.offer(key: "b", value: "x", debounce: .seconds(5), now: at(0))
        #expect(filter.offer(key: "a", value: "1", now: at(1)) == .suppress)

        filter.reset()
        #expect(filter.offer(key: "a", value: "1", now: at(2)) == .publish("1"))
        #expect(filter.offer(key: "b", value: "x", debounce: .seconds(5), now: at(2)) == .publish("x"))
        // Only the next offer: after that the usual rules apply again.
        #expect(filter.offer(key: "a", value: "1", now: at(3)) == .suppress)
        #expect(filter.offer(key: "b", value: "y", debounce: .seconds(5), now: at(3)) == .hold(until: at(7)))
    }

    @Test("reset() keeps held values, so a slow stream still gets its newest value out")
    func resetKeepsHeld() {
        var filter = ChangeFilter<String>()
        _ = filter.offer(key: "a", value: "1", debounce: .seconds(5), now: at(0))
        _ = filter.offer(key: "a", value: "2", debounce: .seconds(5), now: at(1))
        filter.reset()
        #expect(filter.nextDeadline == at(5))
        #expect(filter.due(now: at(5)).map(\.value) == ["2"])
        #expect(filter.offer(key: "a", value: "2", now: at(6)) == .suppress)
    }

    @Test("forget(key:) drops one key's history and held value; forgetAll() drops every key")
    func forget() {
        var filter = ChangeFilter<String>()
        _ = filter.offer(key: "a", value: "1", debounce: .seconds(5), now: at(0))
        _ = filter.offer(key: "a", value: "2", debounce: .seconds(5), now: at(1))
        _ = filter.offer(key: "b", value: "1", now: at(0))

        filter.forget(key: "a")
        #expect(filter.nextDeadline == nil)
        #expect(filter.offer(key: "a", value: "1", now: at(2)) == .publish("1"))
        #expect(filter.offer(key: "b", value: "1", now: at(2)) == .suppress)

        filter.forgetAll()
        #expect(filter.offer(key: "a", value: "1", now: at(3)) == .publish("1"))
        #expect(filter.offer(key: "b", value: "1", now: at(3)) == .publish("1"))
    }

    @Test("Any Equatable value works, not only payload strings")
    func genericValue() {
        var filter = ChangeFilter<Double>(republishInterval: .seconds(60))
        #expect(filter.offer(key: "t", value: 21.5, now: at(0)) == .publish(21.5))
        #expect(filter.offer(key: "t", value: 21.5, now: at(1)) == .suppress)
        #expect(filter.offer(key: "t", value: 21.6, now: at(2)) == .publish(21.6))
    }
}
