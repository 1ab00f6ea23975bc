/// Decides, per entity, whether a value goes on the wire now, later, or not at all.
///
/// This is the design contract's "unchanged values are not republished more often than a
/// configurable interval; fast streams can be throttled per entity (`debounce`)", kept as a
/// pure state machine: it never reads a clock, sleeps or logs. The filter holds the rules;
/// each entity's history is an ``Entry`` that the caller keeps (the source bridge keeps one
/// per device and entity) and passes in with the current instant. The caller acts on the
/// returned ``Decision``, and once a held value's ``Entry/heldUntil`` has passed calls
/// ``release(_:now:)`` to collect it.
///
/// Rules, per entry:
/// - The first value (and the first after ``Entry/reset()``) is published.
/// - A changed value is published at once, unless the entity has a `debounce` and its previous
///   publish was less than `debounce` ago. Then it is held until that publish + `debounce`;
///   a newer value replaces the held one (only the newest is released), and a value equal to
///   the last published one cancels it, so nothing goes out.
/// - An unchanged value is republished only when ``republishInterval`` (and any `debounce`)
///   has passed since the entry's last publish; with `nil` it is never republished.
///
/// `Value` is compared with `==`.
///
/// ```swift
/// let filter = ChangeFilter<String>(republishInterval: .seconds(300))
/// var power = ChangeFilter<String>.Entry()
/// switch filter.offer("1520", to: &power, debounce: .seconds(5), now: clock.now) {
/// case .publish(let payload): try await publish(payload)
/// case .hold, .suppress: break            // at power.heldUntil, ChangeFilter.release(&power, now:)
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
        /// Publish nothing now: the value is held and ``ChangeFilter/release(_:now:)`` gives
        /// the newest held value from `until` on (unless a later offer supersedes it).
        case hold(until: Instant)
    }

    /// How often an unchanged value may be published again; `nil` never republishes it.
    public let republishInterval: Duration?

    /// What the filter knows of one entity: what went on the wire last and when, and a changed
    /// value waiting for the entity's debounce window to end.
    public struct Entry: Sendable {
        /// The last published value; `nil` before the first publish and after a reset (the
        /// next offer publishes whatever it is).
        fileprivate var value: Value?
        /// When the last publish was; `nil` before the first.
        fileprivate var at: Instant?
        /// A changed value held until its debounce window ends (`heldUntil`).
        fileprivate var held: Value?
        /// When the held value is due, or `nil` when nothing is held.
        public private(set) var heldUntil: Instant?

        /// An entry with no history: its first value is published.
        public init() {}

        /// Makes the next offer publish, whatever its value (after the broker reconnects, so
        /// every entity's state goes out again). A held value stays held and is still released
        /// at its deadline, so an entity whose stream is slow does not lose its newest value; an
        /// offer before then publishes at once and drops the held value.
        public mutating func reset() { value = nil }

        fileprivate mutating func publish(_ value: Value, at now: Instant) {
            self.value = value
            at = now
            dropHeld()
        }

        fileprivate mutating func hold(_ value: Value, until deadline: Instant) {
            held = value
            heldUntil = deadline
        }

        fileprivate mutating func dropHeld() {
            // `held` and `heldUntil` are set and cleared together; checking the value first
            // leaves the instant (whose layout is hidden from this module) alone when nothing
            // is held, the usual case.
            guard held != nil else { return }
            held = nil
            heldUntil = nil
        }
    }

    /// A filter whose entries' first values are published.
    ///
    /// - Parameter republishInterval: how often an unchanged value may go out again (for
    ///   example every 5 minutes, so a late subscriber without retained messages catches up);
    ///   `nil` publishes only changes. Must not be negative.
    public init(republishInterval: Duration? = nil) {
        precondition(republishInterval.map { $0 >= .zero } ?? true, "republishInterval must not be negative")
        self.republishInterval = republishInterval
    }

    /// Decides what to do with a new value of the entity whose history is `entry`, and updates it.
    ///
    /// - Parameters:
    ///   - value: the value just read.
    ///   - entry: the entity's history.
    ///   - debounce: the entity's minimum spacing between publishes of changed values; `nil`
    ///     publishes every change at once.
    ///   - now: the caller's current instant.
    /// - Returns: ``Decision/publish(_:)`` (recorded as published at `now`),
    ///   ``Decision/suppress`` or ``Decision/hold(until:)``.
    public func offer(_ value: Value, to entry: inout Entry, debounce: Duration? = nil, now: Instant) -> Decision {
        // The instants are read only where a rule needs them (the usual offer, a changed value
        // without debounce, only records `now`): this module cannot see an instant's layout, so
        // every copy of one is a runtime call.
        guard let lastValue = entry.value else {
            entry.publish(value, at: now)
            return .publish(value)
        }
        if value != lastValue {
            // At once, unless the debounce window of the last publish is still open.
            if let debounce, let lastAt = entry.at, now < lastAt + debounce {
                let windowEnd = lastAt + debounce
                entry.hold(value, until: windowEnd)
                return .hold(until: windowEnd)
            }
            entry.publish(value, at: now)
            return .publish(value)
        }
        // The value came back before the window ended: whatever was held is obsolete.
        entry.dropHeld()
        // `at` is set whenever `value` is (both are recorded by a publish).
        guard let republishInterval, let lastAt = entry.at else { return .suppress }
        let due = max(lastAt + republishInterval, debounce.map { lastAt + $0 } ?? lastAt)
        guard now >= due else { return .suppress }
        entry.publish(value, at: now)
        return .publish(value)
    }

    /// The entry's held value when its window has ended at `now`, recorded as published then;
    /// `nil` when nothing is due.
    public static func release(_ entry: inout Entry, now: Instant) -> Value? {
        guard let held = entry.held, let deadline = entry.heldUntil, deadline <= now else { return nil }
        entry.publish(held, at: now)
        return held
    }
}
