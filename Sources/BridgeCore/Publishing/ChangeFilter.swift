/// Decides, per entity key, whether a value goes on the wire now, later, or not at all.
///
/// This is the design contract's "unchanged values are not republished more often than a
/// configurable interval; fast streams can be throttled per entity (`debounce`)", kept as a
/// pure state machine: it never reads a clock, sleeps or logs. The caller passes `now`,
/// acts on the returned ``Decision``, sleeps until ``nextDeadline`` and then calls
/// ``due(now:)`` to collect the held values whose window has ended.
///
/// Rules, per key:
/// - The first value (and the first after ``reset()`` or ``forget(key:)``) is published.
/// - A changed value is published at once, unless the key has a `debounce` and its previous
///   publish was less than `debounce` ago. Then it is held until that publish + `debounce`;
///   a newer value replaces the held one (only the newest is released), and a value equal to
///   the last published one cancels it, so nothing goes out.
/// - An unchanged value is republished only when ``republishInterval`` (and any `debounce`)
///   has passed since the key's last publish; with `nil` it is never republished.
///
/// `Value` is compared with `==`; pass the rendered payload `String` to compare what
/// subscribers actually see (so `21.40` and `21.4` rendered alike count as unchanged).
///
/// ```swift
/// var filter = ChangeFilter<String>(republishInterval: .seconds(300))
/// switch filter.offer(key: "han/power_import", value: "1520", debounce: .seconds(5), now: clock.now) {
/// case .publish(let payload): try await publish(payload)
/// case .hold, .suppress: break            // sleep until filter.nextDeadline, then filter.due(now:)
/// }
/// ```
public struct ChangeFilter<Value: Equatable & Sendable>: Sendable {
    /// A point on the caller's monotonic clock.
    public typealias Instant = ContinuousClock.Instant

    /// What the caller does with one offered value.
    public enum Decision: Sendable, Equatable {
        /// Publish this value now.
        case publish(Value)
        /// Publish nothing: the value equals the last published one and is not due again.
        case suppress
        /// Publish nothing now: the value is held and ``ChangeFilter/due(now:)`` releases the
        /// newest held value of the key at `until` (unless a later offer supersedes it).
        case hold(until: Instant)
    }

    /// How often an unchanged value may be published again, per key; `nil` never republishes it.
    public let republishInterval: Duration?

    /// What the filter knows of one key: what went on the wire last and when, and a changed
    /// value waiting for the key's debounce window to end.
    ///
    /// ``ChangeFilter`` keeps one per key; a caller that already holds per-key storage (the
    /// source bridge keeps one per device and entity) keeps the entry there and passes it to
    /// ``ChangeFilter/offer(_:to:debounce:now:)`` and ``ChangeFilter/release(_:now:)`` (static), so no
    /// key is built or hashed per value.
    public struct Entry: Sendable {
        // Instants are kept as stamps (see ``ChangeFilter/stamp(_:)``): the source bridge
        // offers every reading to an entry, and a stamp is a plain integer pair.

        /// The last published value; `nil` before the first publish and after a reset (the
        /// next offer publishes whatever it is).
        fileprivate var value: Value?
        /// When the last publish was; `nil` before the first.
        fileprivate var at: Duration?
        /// A changed value held until its debounce window ends (`heldDeadline`).
        fileprivate var held: Value?
        /// When the held value is due, as a stamp; `nil` when nothing is held.
        private(set) var heldDeadline: Duration?

        /// An entry with no history: its first value is published.
        public init() {}

        /// When the held value is due, or `nil` when nothing is held.
        public var heldUntil: Instant? { heldDeadline.map(ChangeFilter.instant) }

        /// Makes the next offer publish, whatever its value; a held value stays held.
        public mutating func reset() { value = nil }

        fileprivate mutating func hold(_ value: Value, until deadline: Duration) {
            held = value
            heldDeadline = deadline
        }

        fileprivate mutating func dropHeld() {
            held = nil
            heldDeadline = nil
        }
    }

    private var entries: [String: Entry] = [:]
    /// Keys whose entry holds a value, so ``due(now:)`` does not look at every key.
    private var heldKeys: Set<String> = []

    /// A filter with no history: every key's first value is published.
    ///
    /// - Parameter republishInterval: how often an unchanged value may go out again (for
    ///   example every 5 minutes, so a late subscriber without retained messages catches up);
    ///   `nil` publishes only changes. Must not be negative.
    public init(republishInterval: Duration? = nil) {
        precondition(republishInterval.map { $0 >= .zero } ?? true, "republishInterval must not be negative")
        self.republishInterval = republishInterval
    }

    /// The earliest instant at which ``due(now:)`` releases a held value, or `nil` when nothing is held.
    ///
    /// The caller sleeps until then (or until the next offer, whichever comes first).
    public var nextDeadline: Instant? {
        heldKeys.compactMap { entries[$0]?.heldUntil }.min()
    }

    /// Decides what to do with a new value for a key.
    ///
    /// - Parameters:
    ///   - key: the entity key, for example `"<device>/<entity>"`.
    ///   - value: the value (usually the rendered payload) just read.
    ///   - debounce: the key's minimum spacing between publishes of changed values; `nil`
    ///     publishes every change at once.
    ///   - now: the caller's current instant.
    /// - Returns: ``Decision/publish(_:)`` (the filter records it as published at `now`),
    ///   ``Decision/suppress`` or ``Decision/hold(until:)``.
    public mutating func offer(key: String, value: Value, debounce: Duration? = nil, now: Instant) -> Decision {
        let decision = Self.decision(
            value, entry: &entries[key, default: Entry()], debounce: debounce, now: Self.stamp(now), republishInterval: republishInterval)
        if case .hold = decision {
            heldKeys.insert(key)
        } else if !heldKeys.isEmpty {
            heldKeys.remove(key)
        }
        return decision
    }

    /// Decides what to do with a new value for the key whose entry is `entry` (the rules of
    /// ``offer(key:value:debounce:now:)``), updating the entry.
    public func offer(_ value: Value, to entry: inout Entry, debounce: Duration? = nil, now: Instant) -> Decision {
        Self.decision(value, entry: &entry, debounce: debounce, now: Self.stamp(now), republishInterval: republishInterval)
    }

    /// ``Decision`` without the instant of a hold (``Entry/heldUntil`` has it). Its layout is
    /// known here, while an instant's is hidden from this module, which makes every use of a
    /// ``Decision`` a runtime call: this is what the per-reading path gets.
    enum Verdict: Equatable {
        case publish(Value)
        case suppress
        case hold
    }

    /// ``offer(_:to:debounce:now:)`` at a stamp (``stamp(_:)``), for a caller offering many
    /// values at one instant.
    func offer(_ value: Value, to entry: inout Entry, debounce: Duration?, stamp now: Duration) -> Verdict {
        Self.decide(value, entry: &entry, debounce: debounce, now: now, republishInterval: republishInterval)
    }

    private static func decision(
        _ value: Value, entry: inout Entry, debounce: Duration?, now: Duration, republishInterval: Duration?
    ) -> Decision {
        switch decide(value, entry: &entry, debounce: debounce, now: now, republishInterval: republishInterval) {
        case .publish(let value): .publish(value)
        case .suppress: .suppress
        case .hold: .hold(until: instant(entry.heldDeadline ?? now))
        }
    }

    /// An instant as a stamp: its distance from a fixed instant of this process. Stamps
    /// compare and add like instants; unlike `ContinuousClock.Instant`, whose layout is
    /// hidden from this module, they are plain values, which matters per reading.
    static func stamp(_ instant: Instant) -> Duration { instant - stampOrigin }

    /// The instant of a stamp.
    static func instant(_ stamp: Duration) -> Instant { stampOrigin + stamp }

    private static func decide(
        _ value: Value, entry: inout Entry, debounce: Duration?, now: Duration, republishInterval: Duration?
    ) -> Verdict {
        guard let lastAt = entry.at, let lastValue = entry.value else {
            return publish(value, to: &entry, now: now)
        }
        let windowEnd = debounce.map { lastAt + $0 }
        if value == lastValue {
            // The value came back before the window ended: whatever was held is obsolete.
            if entry.heldDeadline != nil { entry.dropHeld() }
            guard let republishInterval else { return .suppress }
            let due = max(lastAt + republishInterval, windowEnd ?? lastAt)
            return now >= due ? publish(value, to: &entry, now: now) : .suppress
        }
        if let windowEnd, now < windowEnd {
            entry.hold(value, until: windowEnd)
            return .hold
        }
        return publish(value, to: &entry, now: now)
    }

    /// The entry's held value when its window has ended at `now`, recorded as published then;
    /// `nil` when nothing is due.
    public static func release(_ entry: inout Entry, now: Instant) -> Value? {
        release(&entry, stamp: stamp(now))
    }

    /// ``release(_:now:)`` at a stamp.
    static func release(_ entry: inout Entry, stamp now: Duration) -> Value? {
        guard let held = entry.held, let deadline = entry.heldDeadline, deadline <= now else { return nil }
        entry.dropHeld()
        entry.value = held
        entry.at = now
        return held
    }

    /// Releases the held values whose window has ended, recording them as published at `now`.
    ///
    /// - Parameter now: the caller's current instant.
    /// - Returns: the keys and values to publish now, ordered by deadline, then key.
    public mutating func due(now: Instant) -> [(key: String, value: Value)] {
        guard !heldKeys.isEmpty else { return [] }
        let ready = heldKeys.compactMap { key in
            entries[key]?.heldUntil.flatMap { $0 <= now ? (key: key, until: $0) : nil }
        }.sorted { ($0.until, $0.key) < ($1.until, $1.key) }
        return ready.compactMap { key, _ in
            heldKeys.remove(key)
            guard var entry = entries[key], let value = Self.release(&entry, now: now) else { return nil }
            entries[key] = entry
            return (key: key, value: value)
        }
    }

    /// Forgets everything about a key, including a held value: for an entity that disappeared.
    public mutating func forget(key: String) {
        entries[key] = nil
        heldKeys.remove(key)
    }

    /// Forgets every key, including held values.
    public mutating func forgetAll() {
        entries.removeAll()
        heldKeys.removeAll()
    }

    /// Makes the next offer of every key publish, whatever its value: call it after the broker
    /// reconnects or Home Assistant comes back `online`, so every entity's state goes out again.
    ///
    /// Held values stay held and are still released by ``due(now:)`` at their deadline, so a
    /// key whose stream is slow does not lose its newest value; an offer for the key before
    /// then publishes at once and drops the held value.
    public mutating func reset() {
        for index in entries.indices {
            entries.values[index].reset()
        }
    }

    private static func publish(_ value: Value, to entry: inout Entry, now: Duration) -> Verdict {
        entry.value = value
        entry.at = now
        if entry.heldDeadline != nil { entry.dropHeld() }
        return .publish(value)
    }
}

/// The origin of ``ChangeFilter`` stamps: any fixed instant will do.
private let stampOrigin = ContinuousClock.now
