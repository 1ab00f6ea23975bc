import Testing

@testable import BridgeCore

@Suite("ChangeFilter")
struct ChangeFilterTests {
    typealias Entry = ChangeFilter<String>.Entry

    /// Every test steps time by hand from this instant: no sleeps, no real clock reads after it.
    let base = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant {
        base + .seconds(seconds)
    }

    @Test("The first value of an entry is published")
    func firstValuePublishes() {
        let filter = ChangeFilter<String>()
        var a = Entry()
        var b = Entry()
        #expect(filter.offer("1", to: &a, now: at(0)) == .publish("1"))
        #expect(filter.offer("1", to: &b, now: at(0)) == .publish("1"))
        #expect(a.heldUntil == nil && b.heldUntil == nil)
    }

    @Test("A changed value is published at once when the entity has no debounce")
    func changePublishes() {
        let filter = ChangeFilter<String>()
        var a = Entry()
        _ = filter.offer("1", to: &a, now: at(0))
        #expect(filter.offer("2", to: &a, now: at(0)) == .publish("2"))
        #expect(filter.offer("3", to: &a, now: at(1)) == .publish("3"))
    }

    @Test("Unchanged values are never republished without a republish interval")
    func unchangedWithoutInterval() {
        let filter = ChangeFilter<String>()
        var a = Entry()
        _ = filter.offer("1", to: &a, now: at(0))
        #expect(filter.offer("1", to: &a, now: at(1)) == .suppress)
        #expect(filter.offer("1", to: &a, now: at(86_400)) == .suppress)
    }

    @Test("Unchanged values go out again once per republish interval, counted from the last publish")
    func republishInterval() {
        let filter = ChangeFilter<String>(republishInterval: .seconds(60))
        var a = Entry()
        #expect(filter.offer("1", to: &a, now: at(0)) == .publish("1"))
        #expect(filter.offer("1", to: &a, now: at(59)) == .suppress)
        #expect(filter.offer("1", to: &a, now: at(60)) == .publish("1"))
        #expect(filter.offer("1", to: &a, now: at(61)) == .suppress)
        // A change restarts the interval.
        #expect(filter.offer("2", to: &a, now: at(100)) == .publish("2"))
        #expect(filter.offer("2", to: &a, now: at(150)) == .suppress)
        #expect(filter.offer("2", to: &a, now: at(160)) == .publish("2"))
    }

    @Test("The republish interval is kept per entry")
    func republishIntervalPerEntry() {
        let filter = ChangeFilter<String>(republishInterval: .seconds(60))
        var a = Entry()
        var b = Entry()
        _ = filter.offer("1", to: &a, now: at(0))
        _ = filter.offer("1", to: &b, now: at(30))
        #expect(filter.offer("1", to: &a, now: at(60)) == .publish("1"))
        #expect(filter.offer("1", to: &b, now: at(60)) == .suppress)
        #expect(filter.offer("1", to: &b, now: at(90)) == .publish("1"))
    }

    @Test("Debounce holds changes inside the window and releases only the newest when it ends")
    func debounceHoldsThenReleasesLatest() {
        let filter = ChangeFilter<String>()
        let debounce = Duration.seconds(5)
        var p = Entry()
        #expect(filter.offer("100", to: &p, debounce: debounce, now: at(0)) == .publish("100"))
        #expect(filter.offer("110", to: &p, debounce: debounce, now: at(1)) == .hold(until: at(5)))
        #expect(filter.offer("120", to: &p, debounce: debounce, now: at(3)) == .hold(until: at(5)))
        #expect(p.heldUntil == at(5))
        #expect(ChangeFilter.release(&p, now: at(4)) == nil)

        #expect(ChangeFilter.release(&p, now: at(5)) == "120")
        #expect(p.heldUntil == nil)
        #expect(ChangeFilter.release(&p, now: at(6)) == nil)
        // The released value counts as published: repeating it is suppressed.
        #expect(filter.offer("120", to: &p, debounce: debounce, now: at(6)) == .suppress)
    }

    @Test("A released value opens a new debounce window from the instant it went out")
    func releaseOpensNewWindow() {
        let filter = ChangeFilter<String>()
        let debounce = Duration.seconds(5)
        var p = Entry()
        _ = filter.offer("1", to: &p, debounce: debounce, now: at(0))
        _ = filter.offer("2", to: &p, debounce: debounce, now: at(1))
        #expect(ChangeFilter.release(&p, now: at(7)) == "2")
        #expect(filter.offer("3", to: &p, debounce: debounce, now: at(8)) == .hold(until: at(12)))
        #expect(filter.offer("4", to: &p, debounce: debounce, now: at(12)) == .publish("4"))
        #expect(p.heldUntil == nil)
    }

    @Test("A change after the debounce window is published at once")
    func debounceChangeAfterWindow() {
        let filter = ChangeFilter<String>()
        var p = Entry()
        _ = filter.offer("1", to: &p, debounce: .seconds(5), now: at(0))
        #expect(filter.offer("2", to: &p, debounce: .seconds(5), now: at(5)) == .publish("2"))
        #expect(p.heldUntil == nil)
    }

    @Test("A value back to the last published one before the window ends publishes nothing")
    func debounceReturnToPublished() {
        let filter = ChangeFilter<String>()
        var p = Entry()
        _ = filter.offer("1", to: &p, debounce: .seconds(5), now: at(0))
        #expect(filter.offer("2", to: &p, debounce: .seconds(5), now: at(1)) == .hold(until: at(5)))
        #expect(filter.offer("1", to: &p, debounce: .seconds(5), now: at(2)) == .suppress)
        #expect(p.heldUntil == nil)
        #expect(ChangeFilter.release(&p, now: at(10)) == nil)
    }

    @Test("A held value superseded after its deadline, before it was released, is replaced by the newer one")
    func heldSupersededAfterDeadline() {
        let filter = ChangeFilter<String>()
        var p = Entry()
        _ = filter.offer("1", to: &p, debounce: .seconds(5), now: at(0))
        _ = filter.offer("2", to: &p, debounce: .seconds(5), now: at(1))
        #expect(filter.offer("3", to: &p, debounce: .seconds(5), now: at(6)) == .publish("3"))
        #expect(ChangeFilter.release(&p, now: at(6)) == nil)
    }

    @Test("Debounce also spaces republishes of unchanged values")
    func debounceLongerThanRepublish() {
        let filter = ChangeFilter<String>(republishInterval: .seconds(10))
        var p = Entry()
        _ = filter.offer("1", to: &p, debounce: .seconds(30), now: at(0))
        #expect(filter.offer("1", to: &p, debounce: .seconds(30), now: at(10)) == .suppress)
        #expect(filter.offer("1", to: &p, debounce: .seconds(30), now: at(30)) == .publish("1"))
    }

    @Test("Each entry is released at its own deadline; a later one stays held")
    func releaseAtEachDeadline() {
        let filter = ChangeFilter<String>()
        var entries = ["c": Entry(), "b": Entry(), "a": Entry()]
        for key in ["c", "b", "a"] {
            _ = filter.offer("0", to: &entries[key, default: Entry()], debounce: .seconds(10), now: at(key == "a" ? 2 : 0))
        }
        for key in ["c", "b", "a"] {
            _ = filter.offer("1", to: &entries[key, default: Entry()], debounce: .seconds(10), now: at(3))
        }
        #expect(entries.values.compactMap(\.heldUntil).min() == at(10))
        let first = ["a", "b", "c"].filter { ChangeFilter.release(&entries[$0, default: Entry()], now: at(11)) != nil }
        #expect(first == ["b", "c"])
        #expect(entries.values.compactMap(\.heldUntil).min() == at(12))
        let second = ["a", "b", "c"].filter { ChangeFilter.release(&entries[$0, default: Entry()], now: at(12)) != nil }
        #expect(second == ["a"])
        #expect(entries.values.compactMap(\.heldUntil).isEmpty)
    }

    @Test("After reset() the next offer publishes, even unchanged and inside a window")
    func resetAfterReconnect() {
        let filter = ChangeFilter<String>()
        var a = Entry()
        var b = Entry()
        _ = filter.offer("1", to: &a, now: at(0))
        _ = filter.offer("x", to: &b, debounce: .seconds(5), now: at(0))
        #expect(filter.offer("1", to: &a, now: at(1)) == .suppress)

        a.reset()
        b.reset()
        #expect(filter.offer("1", to: &a, now: at(2)) == .publish("1"))
        #expect(filter.offer("x", to: &b, debounce: .seconds(5), now: at(2)) == .publish("x"))
        // Only the next offer: after that the usual rules apply again.
        #expect(filter.offer("1", to: &a, now: at(3)) == .suppress)
        #expect(filter.offer("y", to: &b, debounce: .seconds(5), now: at(3)) == .hold(until: at(7)))
    }

    @Test("reset() keeps a held value, so a slow stream still gets its newest value out")
    func resetKeepsHeld() {
        let filter = ChangeFilter<String>()
        var a = Entry()
        _ = filter.offer("1", to: &a, debounce: .seconds(5), now: at(0))
        _ = filter.offer("2", to: &a, debounce: .seconds(5), now: at(1))
        a.reset()
        #expect(a.heldUntil == at(5))
        #expect(ChangeFilter.release(&a, now: at(5)) == "2")
        #expect(filter.offer("2", to: &a, now: at(6)) == .suppress)
    }

    @Test("Any Equatable value works, not only payload strings")
    func genericValue() {
        let filter = ChangeFilter<Double>(republishInterval: .seconds(60))
        var t = ChangeFilter<Double>.Entry()
        #expect(filter.offer(21.5, to: &t, now: at(0)) == .publish(21.5))
        #expect(filter.offer(21.5, to: &t, now: at(1)) == .suppress)
        #expect(filter.offer(21.6, to: &t, now: at(2)) == .publish(21.6))
    }
}
