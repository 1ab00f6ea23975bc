import TestSupport

/// Moves a ``SimulatedClock`` only when the system is at rest: every loop of the source runner
/// parked on the clock (its poll pauses and its 1 s tick), every adapter read either finished or
/// itself parked on the clock (a budget wait, a retry pause) with its read deadline parked next to
/// it, and everything the bridge handed to the broker received by the subscriber. Then it steps
/// to the earliest deadline. The outcome depends on the steps, not on how fast the machine is;
/// the wall-clock guard only turns a hang into an error.
public struct ClockDriver: Sendable {
    public let clock: SimulatedClock
    public let adapter: ObservedAdapter
    /// Long-lived loops sleeping on the clock: one per poll schedule, plus the runner's tick.
    public let loops: Int
    /// The runner's deadline for one read (`timeout × 2 + maximumBudgetWait`): its timer's sleep.
    public let readTimeout: Duration
    /// Whether the subscriber has received everything the bridge sent.
    public let drained: @Sendable () -> Bool

    public init(
        clock: SimulatedClock, adapter: ObservedAdapter, readTimeout: Duration, drained: @escaping @Sendable () -> Bool
    ) {
        self.clock = clock
        self.adapter = adapter
        self.loops = adapter.polls.count + adapter.streamFallback.count + 1
        self.readTimeout = readTimeout
        self.drained = drained
    }

    /// Every task parked on the clock (see the type's description).
    public var isSettled: Bool {
        let reads = adapter.readsInFlight
        let sleepers = clock.sleepers
        let inRead = sleepers.count { $0.inRead }
        let timers = sleepers.count { !$0.inRead && $0.requested == readTimeout }
        let parked = sleepers.count - inRead - timers
        return inRead == reads && timers == reads && parked == loops - reads && adapter.readsInFlight == reads
    }

    /// Waits until settled and drained; throws after `hangGuard` of real time.
    public func settle(hangGuard: Duration = .seconds(120)) async throws {
        let hang = ContinuousClock.now + hangGuard
        while !(isSettled && drained()) {
            guard ContinuousClock.now < hang else {
                let sleepers = clock.sleepers.map { "\($0.requested)\($0.inRead ? " (in read)" : "")" }
                throw TestSupportError(
                    "not settled after \(hangGuard) at simulated \(clock.elapsed): reads \(adapter.readsInFlight), "
                        + "sleepers \(sleepers), drained \(drained())")
            }
            await Task.yield()
            try await Task.sleep(for: .microseconds(200))
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
