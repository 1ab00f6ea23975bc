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

    /// What went on the wire last for a key, and when.
    private struct Published: Sendable {
        /// `nil` after ``ChangeFilter/reset()``: the next offer publishes whatever it is.
        var value: Value?
        var at: Instant
    }

    /// A changed value waiting for its key's debounce window to end.
    private struct Held: Sendable {
        var value: Value
        var until: Instant
    }

    private var published: [String: Published] = [:]
    private var held: [String: Held] = [:]

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
        held.values.map(\.until).min()
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
        guard let last = published[key], let lastValue = last.value else {
            return publish(key: key, value: value, now: now)
        }
        let windowEnd = debounce.map { last.at + $0 }
        if value == lastValue {
            // The value came back before the window ended: whatever was held is obsolete.
            if !held.isEmpty { held[key] = nil }
            guard let republishInterval else { return .suppress }
            let due = max(last.at + republishInterval, windowEnd ?? last.at)
            return now >= due ? publish(key: key, value: value, now: now) : .suppress
        }
        if let windowEnd, now < windowEnd {
            held[key] = Held(value: value, until: windowEnd)
            return .hold(until: windowEnd)
        }
        return publish(key: key, value: value, now: now)
    }

    /// Releases the held values whose window has ended, recording them as published at `now`.
    ///
    /// - Parameter now: the caller's current instant.
    /// - Returns: the keys and values to publish now, ordered by deadline, then key.
    public mutating func due(now: Instant) -> [(key: String, value: Value)] {
        let ready = held.filter { $0.value.until <= now }.sorted { lhs, rhs in
            (lhs.value.until, lhs.key) < (rhs.value.until, rhs.key)
        }
        return ready.map { key, entry in
            held[key] = nil
            published[key] = Published(value: entry.value, at: now)
            return (key: key, value: entry.value)
        }
    }

    /// Forgets everything about a key, including a held value: for an entity that disappeared.
    public mutating func forget(key: String) {
        published[key] = nil
        held[key] = nil
    }

    /// Forgets every key, including held values.
    public mutating func forgetAll() {
        published.removeAll()
        held.removeAll()
    }

    /// Makes the next offer of every key publish, whatever its value: call it after the broker
    /// reconnects or Home Assistant comes back `online`, so every entity's state goes out again.
    ///
    /// Held values stay held and are still released by ``due(now:)`` at their deadline, so a
    /// key whose stream is slow does not lose its newest value; an offer for the key before
    /// then publishes at once and drops the held value.
    public mutating func reset() {
        for key in published.keys {
            published[key]?.value = nil
        }
    }

    private mutating func publish(key: String, value: Value, now: Instant) -> Decision {
        published[key] = Published(value: value, at: now)
        if !held.isEmpty { held[key] = nil }
        return .publish(value)
    }
}
