/// Presence for `device_tracker` children (network clients): `home` while a client is seen
/// online, `not_home` only after `awayAfter` without being seen online in fresh data, and
/// removal after `removeAfter` without being seen at all.
///
/// Time only counts in fresh data: absence is judged when a fresh document arrives, by the
/// time between that document and the client's last sighting. A stale document (the router
/// unreachable, the API serving its cache) is ignored, so an outage never turns every client
/// away, and neither does a bridge that could not read the source for a while: the first fresh
/// document after a gap that shows the client online keeps it home.
///
/// Pure state stepped with explicit instants, tested without a clock.
public struct PresenceTracker<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// What one fresh document changed.
    public struct Changes: Sendable, Equatable {
        /// Children whose presence changed: `home` or `not_home`.
        public var states: [String: String] = [:]
        /// Children gone longer than `removeAfter`: remove their devices.
        public var removed: Set<String> = []
        /// Removed children the document still lists offline: not to be made devices again
        /// until they are seen online (a router that lists every client it ever saw would
        /// otherwise bring them back as new devices).
        public var ignored: Set<String> = []

        public init(states: [String: String] = [:], removed: Set<String> = [], ignored: Set<String> = []) {
            self.states = states
            self.removed = removed
            self.ignored = ignored
        }
    }

    public let awayAfter: Duration
    public let removeAfter: Duration
    /// Last fresh sighting online of each tracked child.
    private(set) var lastSeen: [String: Instant] = [:]
    /// The presence last reported for each tracked child.
    private(set) var reported: [String: String] = [:]
    /// Children removed and not seen online since.
    private(set) var removedChildren: Set<String> = []

    public init(awayAfter: Duration, removeAfter: Duration) {
        self.awayAfter = awayAfter
        self.removeAfter = max(removeAfter, awayAfter)
    }

    /// The children tracked now.
    public var tracked: Set<String> { Set(reported.keys) }

    /// Starts tracking a child known from before (e.g. its retained state), as last seen `at`.
    public mutating func remember(_ child: String, seen instant: Instant) {
        if lastSeen[child] == nil { lastSeen[child] = instant }
    }

    /// Steps the tracker with one document.
    /// - Parameters:
    ///   - online: every child the document lists, and whether it shows it online.
    ///   - fresh: false for stale data, which changes nothing.
    ///   - instant: when the document was read.
    public mutating func observe(online: [String: Bool], fresh: Bool, at instant: Instant) -> Changes {
        guard fresh else {
            return Changes(ignored: Set(online.keys).intersection(removedChildren))
        }
        var changes = Changes()
        for (child, isOnline) in online where isOnline {
            lastSeen[child] = instant
            removedChildren.remove(child)
        }
        changes.ignored = Set(online.keys).intersection(removedChildren)
        for (child, seen) in lastSeen {
            let absent = seen.duration(to: instant)
            if absent >= removeAfter, online[child] != true {
                lastSeen[child] = nil
                reported[child] = nil
                removedChildren.insert(child)
                changes.removed.insert(child)
                continue
            }
            let state = absent >= awayAfter ? "not_home" : "home"
            if reported[child] != state {
                reported[child] = state
                changes.states[child] = state
            }
        }
        // Listed but never seen online since tracking began: away until seen.
        for (child, isOnline) in online
        where !isOnline && lastSeen[child] == nil && reported[child] == nil && !removedChildren.contains(child) {
            reported[child] = "not_home"
            changes.states[child] = "not_home"
            lastSeen[child] = instant.advanced(by: .zero - awayAfter)
        }
        return changes
    }
}
