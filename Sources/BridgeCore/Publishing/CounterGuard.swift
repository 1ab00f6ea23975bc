/// Keeps `total_increasing` counters (energy in kWh, byte totals) from going backwards on the wire.
///
/// Home Assistant reads any decrease of a `total_increasing` sensor as a new meter cycle, so a
/// single glitch reading of 0 followed by the true value books the whole meter reading as
/// consumption in the energy dashboard. Meters do glitch: some repeat the previous hour's
/// register, a bus loss gives zeros, router byte counters wrap on reboot. This pure state
/// machine decides, per entity key, whether a reading may be published; it never reads a
/// clock or logs, the caller logs from the ``Verdict``.
///
/// Rules, per key:
/// - The first reading is accepted, except an exact 0, which is withheld like a glitch until
///   it persists (a reader that starts with a bus-loss 0 would otherwise publish it).
/// - A reading at or above the last accepted one is accepted and ends any glitch run.
/// - A reading below it (0 or any drop) is withheld. Only the first withheld reading of a run
///   says `firstTime: true`, so the caller logs once per glitch, not once per reading.
/// - A drop is a genuine reset when the source says so, or when it persists: ``persistence``
///   consecutive readings below the last accepted one, non-decreasing among themselves (a meter
///   counting again from near 0), spanning at least ``persistenceDuration``. The latest of them
///   becomes the new baseline and is published. Noisy drops restart the streak and never
///   qualify.
///
/// Units are the caller's: compare readings already scaled to the published unit.
public struct CounterGuard: Sendable {
    /// A point on the caller's monotonic clock.
    public typealias Instant = ContinuousClock.Instant

    /// Whether a reading may be published.
    public enum Verdict: Sendable, Equatable {
        /// Publish the reading: it is the first, or not below the last accepted one.
        case accepted
        /// Publish the reading: it starts a new meter cycle below `previous`, the value accepted before.
        case acceptedReset(previous: Double)
        /// Do not publish the reading. `firstTime` is true for the first reading of a glitch run only.
        case withheld(WithholdReason, firstTime: Bool)

        /// Whether the reading goes on the wire.
        public var publishes: Bool {
            if case .withheld = self { return false }
            return true
        }
    }

    /// Why a reading was withheld.
    public enum WithholdReason: Sendable, Equatable {
        /// The reading is exactly 0 (bus loss, a reader that just started) and 0 is not yet confirmed.
        case zero
        /// The reading is below the last accepted value.
        case decrease
        /// The reading is NaN or infinite.
        case notFinite
    }

    /// How many consecutive, mutually consistent lower readings make a genuine reset (at least 1).
    public let persistence: Int
    /// How long, from the first of those readings, the lower readings must have lasted too.
    ///
    /// `.zero` (the default) counts readings only. For fast streams (a HAN reader every 10 s)
    /// a few minutes keeps a glitch that repeats one stale register from passing as a reset.
    public let persistenceDuration: Duration

    /// Consecutive withheld readings that could be a new meter cycle.
    private struct Streak: Sendable {
        var count: Int
        var latest: Double
        var since: Instant
    }

    private struct Entry: Sendable {
        /// The last accepted (published) reading; `nil` before the first.
        var baseline: Double?
        /// Whether a glitch run is in progress (a reading was withheld since the last accepted one).
        var inRun = false
        var streak: Streak?

        /// Makes `value` the baseline and ends any glitch run.
        mutating func accept(_ value: Double) {
            self = Entry(baseline: value)
        }

        /// Withholds a reading; only the first of a run says `firstTime`, so the caller logs once per glitch.
        mutating func withhold(_ reason: WithholdReason) -> Verdict {
            defer { inRun = true }
            return .withheld(reason, firstTime: !inRun)
        }

        /// Adds a lower reading to the streak and says whether the streak now proves a reset.
        ///
        /// A reading below the streak's latest one is noise: the streak starts again from it.
        mutating func extendStreak(_ value: Double, now: Instant, persistence: Int, duration: Duration) -> Bool {
            var next = Streak(count: 1, latest: value, since: now)
            if let streak, value >= streak.latest {
                next = Streak(count: streak.count + 1, latest: value, since: streak.since)
            }
            streak = next
            return next.count >= persistence && now - next.since >= duration
        }
    }

    private var entries: [String: Entry] = [:]

    /// A guard with no history.
    ///
    /// - Parameters:
    ///   - persistence: consecutive consistent lower readings that make a reset; 3 by default.
    ///   - persistenceDuration: the least time those readings must span; none by default.
    public init(persistence: Int = 3, persistenceDuration: Duration = .zero) {
        precondition(persistence >= 1, "persistence must be at least 1")
        precondition(persistenceDuration >= .zero, "persistenceDuration must not be negative")
        self.persistence = persistence
        self.persistenceDuration = persistenceDuration
    }

    /// The last accepted reading of a key, for log lines ("withheld 0, last 12345.6 kWh").
    public func lastAccepted(key: String) -> Double? {
        entries[key]?.baseline
    }

    /// Decides whether a counter reading may be published.
    ///
    /// - Parameters:
    ///   - key: the entity key, for example `"<device>/<entity>"`.
    ///   - value: the reading, in the unit it is published in.
    ///   - now: the caller's current instant.
    ///   - sourceSaysReset: the API itself reports a reset (a new session, a replaced meter):
    ///     a lower reading is then accepted at once.
    /// - Returns: the ``Verdict``; the guard records accepted readings as the new baseline.
    public mutating func check(key: String, value: Double, now: Instant, sourceSaysReset: Bool = false) -> Verdict {
        var entry = entries[key] ?? Entry()
        defer { entries[key] = entry }

        guard value.isFinite else {
            entry.streak = nil
            return entry.withhold(.notFinite)
        }
        guard let baseline = entry.baseline else {
            if value != 0 || sourceSaysReset || entry.extendStreak(value, now: now, persistence: persistence, duration: persistenceDuration) {
                entry.accept(value)
                return .accepted
            }
            return entry.withhold(.zero)
        }
        if value >= baseline {
            entry.accept(value)
            return .accepted
        }
        if sourceSaysReset || entry.extendStreak(value, now: now, persistence: persistence, duration: persistenceDuration) {
            entry.accept(value)
            return .acceptedReset(previous: baseline)
        }
        return entry.withhold(value == 0 ? .zero : .decrease)
    }

    /// Seeds a key's baseline without publishing, for example from the retained state the
    /// broker still holds after a restart, so the first reading is checked against it.
    public mutating func seed(key: String, lastAccepted: Double) {
        entries[key] = Entry(baseline: lastAccepted)
    }

    /// Forgets a key: its next reading counts as the first.
    public mutating func forget(key: String) {
        entries[key] = nil
    }

    /// Forgets every key.
    public mutating func forgetAll() {
        entries.removeAll()
    }
}
