import BridgeCore
import Testing

@Suite("PresenceTracker: home, away after away_after of fresh absence, removed much later, never flipped by stale data")
struct PresenceTrackerTests {
    let base = ContinuousClock.now
    func at(_ seconds: Int) -> ContinuousClock.Instant { base + .seconds(seconds) }

    @Test("a client seen online is home; after away_after without a fresh sighting it is not_home; seen again, home")
    func awayAndBack() {
        var tracker = PresenceTracker<ContinuousClock.Instant>(awayAfter: .seconds(300), removeAfter: .seconds(3600))
        #expect(tracker.observe(online: ["phone": true, "tv": true], fresh: true, at: at(0)).states == ["phone": "home", "tv": "home"])
        // The phone leaves the list (or is listed offline); the tv stays.
        #expect(tracker.observe(online: ["tv": true], fresh: true, at: at(120)).states.isEmpty)
        #expect(tracker.observe(online: ["tv": true, "phone": false], fresh: true, at: at(299)).states.isEmpty)
        #expect(tracker.observe(online: ["tv": true], fresh: true, at: at(300)).states == ["phone": "not_home"])
        #expect(tracker.observe(online: ["tv": true], fresh: true, at: at(400)).states.isEmpty, "reported once")
        #expect(tracker.observe(online: ["tv": true, "phone": true], fresh: true, at: at(500)).states == ["phone": "home"])
    }

    @Test("stale documents change nothing, however long the outage: the first fresh sighting keeps the client home")
    func staleNeverFlips() {
        var tracker = PresenceTracker<ContinuousClock.Instant>(awayAfter: .seconds(300), removeAfter: .seconds(3600))
        _ = tracker.observe(online: ["phone": true], fresh: true, at: at(0))
        for minute in 1...30 {
            #expect(tracker.observe(online: [:], fresh: false, at: at(minute * 60)) == .init(), "stale at minute \(minute)")
        }
        #expect(tracker.observe(online: ["phone": true], fresh: true, at: at(1900)).states.isEmpty, "still home, never reported away")
    }

    @Test("a client not seen for remove_after is removed, and reported again as new when it returns")
    func removal() {
        var tracker = PresenceTracker<ContinuousClock.Instant>(awayAfter: .seconds(300), removeAfter: .seconds(3600))
        _ = tracker.observe(online: ["phone": true, "tv": true], fresh: true, at: at(0))
        let away = tracker.observe(online: ["tv": true], fresh: true, at: at(600))
        #expect(away.states == ["phone": "not_home"] && away.removed.isEmpty)
        let gone = tracker.observe(online: ["tv": true], fresh: true, at: at(3600))
        #expect(gone.removed == ["phone"] && gone.states.isEmpty)
        #expect(tracker.tracked == ["tv"])
        // Still listed offline (routers list clients they once saw): not made a device again.
        let listed = tracker.observe(online: ["tv": true, "phone": false], fresh: true, at: at(3700))
        #expect(listed.ignored == ["phone"] && listed.states.isEmpty)
        #expect(tracker.observe(online: ["tv": true, "phone": true], fresh: true, at: at(4000)).states == ["phone": "home"])
        #expect(tracker.observe(online: ["tv": true, "phone": false], fresh: true, at: at(4010)).ignored.isEmpty)
    }

    @Test("a client listed offline and never seen online is not_home at once")
    func neverSeen() {
        var tracker = PresenceTracker<ContinuousClock.Instant>(awayAfter: .seconds(300), removeAfter: .seconds(3600))
        #expect(tracker.observe(online: ["printer": false], fresh: true, at: at(0)).states == ["printer": "not_home"])
        #expect(tracker.observe(online: ["printer": false], fresh: true, at: at(10)).states.isEmpty)
        #expect(tracker.observe(online: ["printer": true], fresh: true, at: at(20)).states == ["printer": "home"])
    }
}
