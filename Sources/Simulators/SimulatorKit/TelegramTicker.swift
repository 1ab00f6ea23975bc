import ServiceLifecycle

/// A service that calls `tick` after `delay` and then every `interval`, on a fixed cadence,
/// until graceful shutdown or cancellation. Simulators use it to push data like a real device.
public struct TelegramTicker: Service {
    let delay: Duration
    let interval: @Sendable () -> Duration
    let tick: @Sendable () -> Void

    /// Creates a ticker.
    public init(delay: Duration, interval: Duration, tick: @escaping @Sendable () -> Void) {
        self.init(delay: delay, interval: { interval }, tick: tick)
    }

    /// Creates a ticker whose period can change while it runs: `interval` is read after every
    /// tick, so a new period applies from the next tick on.
    public init(delay: Duration, interval: @escaping @Sendable () -> Duration, tick: @escaping @Sendable () -> Void) {
        self.delay = delay
        self.interval = interval
        self.tick = tick
    }

    /// Ticks until graceful shutdown or cancellation.
    public func run() async throws {
        let delay = delay, interval = interval, tick = tick
        try? await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var next = clock.now.advanced(by: delay)
            while !Task.isCancelled {
                try await Task.sleep(until: next, clock: clock)
                tick()
                next = max(next.advanced(by: interval()), clock.now)
            }
        }
    }
}
