import TestSupport

/// ``ClockDriver`` for a bridge with several sources, streams included: it moves a
/// ``SimulatedClock`` only when every source's loops are parked on it, every adapter read is
/// finished or parked on the clock with its read deadline next to it, and the subscriber has
/// everything the bridge sent.
///
/// What "parked" means for each source (see `SourceRunner`): one sleeper per poll schedule
/// (fallback schedules included) and its 1 s tick; for a source with a stream, also one more
/// while its stream is down (the reconnect pause) or, while it is open, the silence watcher when
/// the adapter has a `streamSilence` (none otherwise). A read a device does not answer in time
/// (a request hanging until the HTTP client's own timeout) is not parked on the clock: the driver
/// then waits in real time until the client gives up, and simulated time stands still meanwhile.
///
/// Settled must hold on a few consecutive checks, so a task that has just been woken (a document
/// arriving on a stream) gets to run before the clock moves on.
public struct BridgeClockDriver: Sendable {
    /// One source as the driver counts it.
    public struct Source: Sendable {
        public let adapter: ObservedAdapter
        /// The runner's deadline for one read (`timeout × 2 + maximumBudgetWait`).
        public let readTimeout: Duration

        /// Whether the device has the stream's connection open (its simulator's count), or nil.
        /// While the adapter holds a stream open that the device does not, the adapter is
        /// connecting or waiting in real time to reconnect: not settled.
        public let streamConnected: (@Sendable () -> Bool)?

        public init(adapter: ObservedAdapter, readTimeout: Duration, streamConnected: (@Sendable () -> Bool)? = nil) {
            self.adapter = adapter
            self.readTimeout = readTimeout
            self.streamConnected = streamConnected
        }

        /// Whether the stream, if the adapter has one open, is open at the device too.
        var streamSettled: Bool {
            guard adapter.streamsOpen > 0, let streamConnected else { return true }
            return streamConnected()
        }
    }

    public let clock: SimulatedClock
    public let sources: [Source]
    /// Whether the subscriber has received everything the bridge sent.
    public let drained: @Sendable () -> Bool

    public init(clock: SimulatedClock, sources: [Source], drained: @escaping @Sendable () -> Bool) {
        self.clock = clock
        self.sources = sources
        self.drained = drained
    }

    /// The sleepers expected parked when nothing is under way, reads aside.
    var loops: Int {
        sources.reduce(0) { total, source in
            let adapter = source.adapter
            var loops = adapter.polls.count + 1
            if adapter.hasStream {
                loops += adapter.streamFallback.count
                loops += adapter.streamsOpen > 0 ? (adapter.streamSilence == nil ? 0 : 1) : 1
            }
            return total + loops
        }
    }

    /// Every task parked on the clock (see the type's description).
    public var isSettled: Bool {
        let reads = sources.reduce(0) { $0 + $1.adapter.readsInFlight }
        let deadlines = Set(sources.map(\.readTimeout))
        let sleepers = clock.sleepers
        let inRead = sleepers.count { $0.inRead }
        let timers = sleepers.count { !$0.inRead && deadlines.contains($0.requested) }
        let parked = sleepers.count - inRead - timers
        let again = sources.reduce(0) { $0 + $1.adapter.readsInFlight }
        return inRead == reads && timers == reads && parked == loops - reads && again == reads
            && sources.allSatisfy(\.streamSettled)
    }

    /// A description of what the driver sees, for hang reports.
    public var snapshot: String {
        let reads = sources.map { "\($0.adapter.readsInFlight)" }.joined(separator: ",")
        let streams = sources.map { "\($0.adapter.streamsOpen)\($0.streamSettled ? "" : " (connecting)")" }.joined(separator: ",")
        let sleepers = clock.sleepers.map { "\($0.requested)\($0.inRead ? " (in read)" : "")" }
        return "reads [\(reads)], open streams [\(streams)], expected loops \(loops), sleepers \(sleepers), drained \(drained())"
    }

    /// Waits until settled and drained (on three checks in a row); throws after `hangGuard` of real time.
    public func settle(hangGuard: Duration = .seconds(180)) async throws {
        let hang = ContinuousClock.now + hangGuard
        var stable = 0
        while stable < 3 {
            guard ContinuousClock.now < hang else {
                throw TestSupportError("not settled after \(hangGuard) at simulated \(clock.elapsed): \(snapshot)")
            }
            await Task.yield()
            try await Task.sleep(for: .microseconds(200))
            stable = isSettled && drained() ? stable + 1 : 0
        }
    }

    /// Settles, then moves the clock to the earliest deadline (at most `limit` on).
    /// - Returns: the simulated time elapsed after the step.
    @discardableResult
    public func step(limit: Duration = .seconds(1)) async throws -> Duration {
        try await settle()
        let cap = clock.now + limit
        clock.advance(to: min(clock.nextDeadline ?? cap, cap))
        return clock.elapsed
    }
}
