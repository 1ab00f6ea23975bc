import Logging
import ServiceLifecycle
import Synchronization

/// Drives one source: polls its endpoints on their schedules, consumes its stream (polling the
/// fallback endpoints while the stream is down), feeds every document to its `SourcePublisher`,
/// tracks its health (availability in Home Assistant, `bridge/sources`) and executes commands.
///
/// Failures are contained: a read that throws or hangs (bounded by the source timeout) only
/// changes this source's health; nothing here throws out of `run()` for device trouble, so one
/// source never stops the others or the broker. Health changes are logged once per transition.
public final class SourceRunner: Service, CommandExecutor {
    public let bridge: SourcePublisher
    let adapter: any SourceAdapter
    let clock: any Clock<Duration>
    let logger: Logger
    let readTimeout: Duration
    let state: Mutex<State>
    let refreshes: AsyncStream<Set<String>>
    let refreshContinuation: AsyncStream<Set<String>>.Continuation
    let restarts: AsyncStream<Void>
    let restartContinuation: AsyncStream<Void>.Continuation
    /// Called after every status change (the bridge republishes `bridge/sources`).
    let onStatusChange: @Sendable () -> Void

    struct State {
        var health: SourceHealth
        /// Reads begun and reads done (answer handled): tests that drive a manual clock wait
        /// until no read is between its deadline timer and the device before moving time on.
        var readsBegun = 0
        var readsDone = 0
    }

    /// How many reads this runner has begun, and finished with (see ``State``).
    var readCounts: (begun: Int, done: Int) { state.withLock { ($0.readsBegun, $0.readsDone) } }

    /// The endpoints of one poll round: those on the adapter's shortest schedule (fallback
    /// schedules included, as they are what is read while the stream is down). When each has
    /// failed with nothing succeeding since, the source is offline (``SourceHealth``).
    static func roundEndpoints(of adapter: any SourceAdapter) -> Set<String> {
        let schedules = adapter.polls + (adapter.hasStream ? adapter.streamFallback : [])
        guard let shortest = schedules.map(\.interval).min() else { return [] }
        return Set(schedules.filter { $0.interval == shortest }.map(\.endpoint))
    }

    public init(
        bridge: SourcePublisher, adapter: any SourceAdapter, clock: any Clock<Duration> = ContinuousClock(), logger: Logger,
        onStatusChange: @escaping @Sendable () -> Void = {}
    ) {
        self.onStatusChange = onStatusChange
        self.bridge = bridge
        self.adapter = adapter
        self.clock = clock
        var logger = logger
        logger[metadataKey: "source.id"] = "\(bridge.configuration.id)"
        logger[metadataKey: "source.type"] = "\(bridge.configuration.type.rawValue)"
        self.logger = logger
        // A read may first wait for the source's request budget: the deadline allows for it, so
        // a budget wait never reads as a device that did not answer.
        self.readTimeout = bridge.configuration.timeout * 2 + adapter.maximumBudgetWait
        self.state = Mutex(State(health: SourceHealth(roundEndpoints: Self.roundEndpoints(of: adapter))))
        (refreshes, refreshContinuation) = AsyncStream.makeStream(of: Set<String>.self, bufferingPolicy: .bufferingNewest(16))
        (restarts, restartContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The source's configured id.
    public var id: String { bridge.configuration.id }

    /// The current health.
    public var health: SourceHealth { state.withLock { $0.health } }

    /// Runs until cancelled or graceful shutdown; restarts its work on `restart()`.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.runUntilRestart() }
                for await _ in self.restarts {
                    group.cancelAll()
                    self.logger.notice("Source restarting")
                    group.addTask { await self.runUntilRestart() }
                }
            }
        }
    }

    /// Asks the source to re-read `endpoints` now (all polled endpoints when empty).
    public func refresh(endpoints: Set<String>) async {
        refreshContinuation.yield(endpoints)
    }

    /// Restarts the source's polling and stream.
    public func restart() {
        restartContinuation.yield(())
    }

    // MARK: CommandExecutor

    public func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? {
        try await adapter.execute(call)
    }

    public func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        try await adapter.perform(action: action, value: value, childKey: childKey)
    }

    public var isAvailable: Bool {
        get async { state.withLock { $0.health.status != .offline } }
    }

    // MARK: Running

    private func runUntilRestart() async {
        await withDiscardingTaskGroup { group in
            for schedule in adapter.polls {
                group.addTask { await self.poll(schedule) }
            }
            if adapter.hasStream {
                group.addTask { await self.consumeStream() }
                for schedule in adapter.streamFallback {
                    group.addTask { await self.poll(schedule, onlyWhileStreamDown: true) }
                }
            }
            group.addTask { await self.serveRefreshes() }
            group.addTask { await self.tick() }
        }
    }

    /// The first pause after a "no data yet" answer; it doubles up to ``noDataBackoffLimit``
    /// (or the endpoint's interval, when shorter) until the endpoint answers with data.
    static let noDataBackoff: Duration = .seconds(5)
    static let noDataBackoffLimit: Duration = .seconds(60)

    private func poll(_ schedule: PollSchedule, onlyWhileStreamDown: Bool = false) async {
        var backoff = Self.noDataBackoff
        while !Task.isCancelled {
            var pause = schedule.interval
            if !onlyWhileStreamDown || state.withLock({ $0.health.streamUp }) != true {
                switch await read(schedule.endpoint) {
                case .done:
                    backoff = Self.noDataBackoff
                case .noDataYet:
                    pause = min(backoff, schedule.interval)
                    backoff = min(backoff * 2, Self.noDataBackoffLimit)
                case .wait(let retryAfter):
                    // Not before the server allows, nor sooner than a fast schedule would; a slow
                    // endpoint (hourly, daily) tries again within a minute, not an interval later.
                    pause = max(retryAfter, min(schedule.interval, Self.rateLimitPause))
                }
            }
            do {
                try await clock.sleep(for: pause)
            } catch {
                return
            }
        }
    }

    private func serveRefreshes() async {
        for await endpoints in refreshes {
            // Named endpoints are read even when not polled (e.g. a scan result after its command).
            let all = Set(adapter.polls.map(\.endpoint) + adapter.streamFallback.map(\.endpoint))
            for endpoint in (endpoints.isEmpty ? all : endpoints).sorted() {
                await read(endpoint)
            }
        }
    }

    /// Releases debounced values and removes children gone past their grace period, each when
    /// it is due: between two, the loop sleeps (woken early by the publisher when new work comes).
    private func tick() async {
        let alarm = TickAlarm()
        await bridge.onPending { instant in alarm.poke(instant) }
        while !Task.isCancelled {
            let due = await bridge.tick()
            let pause = due.map { max(.zero, $0 - bridge.now()) }
            guard await alarm.sleep(until: due, for: pause, on: clock) else { return }
        }
    }

    /// What a read asks of the schedule that made it.
    enum ReadOutcome: Equatable {
        /// Read (or failed): come back at the scheduled time.
        case done
        /// The device has nothing yet: come back soon.
        case noDataYet
        /// Rate limited: not before this long.
        case wait(Duration)
    }

    /// The pause after a 429 that names no `Retry-After`.
    static let rateLimitPause: Duration = .seconds(60)

    /// One read, bounded by the read timeout so a hanging device cannot stall this endpoint forever.
    @discardableResult
    func read(_ endpoint: String) async -> ReadOutcome {
        let adapter = self.adapter
        let timeout = readTimeout
        let clock = self.clock
        state.withLock { $0.readsBegun += 1 }
        defer { state.withLock { $0.readsDone += 1 } }
        let outcome: Result<JSONValue?, SourceFailure> = await withDeadline(
            timeout, clock: clock, fallback: .failure(.failed("no answer within \(timeout)"))
        ) {
            do {
                return .success(try await adapter.read(endpoint: endpoint))
            } catch {
                return .failure(SourceFailure(classifying: error))
            }
        }
        switch outcome {
        case .success(let document):
            if let document { await bridge.ingest(endpoint: endpoint, document: document) }
            await record(state.withLock { $0.health.succeeded(endpoint: endpoint, at: .now) })
            return .done
        case .failure(let failure):
            guard !Task.isCancelled else { return .done }
            switch failure {
            case .noDataYet:
                // The device answered: it is up, only without data for this endpoint yet.
                await record(state.withLock { $0.health.succeeded(endpoint: endpoint, at: .now) })
                return .noDataYet
            case .rateLimited(let retryAfter):
                // Waiting is not failing: the source stays available, and says why it waits.
                state.withLock { $0.health.note(failure.description) }
                onStatusChange()
                return .wait(retryAfter ?? Self.rateLimitPause)
            case .unauthorized, .failed:
                await record(state.withLock { $0.health.failed(endpoint: endpoint, error: failure.description) })
                return .done
            }
        }
    }

    private func consumeStream() async {
        var delay = Duration.seconds(1)
        while !Task.isCancelled {
            guard let stream = adapter.stream() else { return }
            let (failure, confirmed) = await consume(stream)
            if confirmed { delay = .seconds(1) }
            guard !Task.isCancelled else { return }
            await record(state.withLock { $0.health.stream(up: false, error: failure) })
            // Poll the fallback endpoints at once rather than at their next scheduled time.
            let fallback = Set(adapter.streamFallback.map(\.endpoint))
            if !fallback.isEmpty { refreshContinuation.yield(fallback) }
            do {
                try await clock.sleep(for: delay)
            } catch {
                return
            }
            delay = min(delay * 2, .seconds(60))
        }
    }

    /// Feeds one connection's documents to the bridge until the stream ends, fails, or carries
    /// no confirming document for `streamSilence` (checked every `streamSilence`, so a silent
    /// stream ends after one to two of them). Returns why it ended and whether it was ever up.
    private func consume(_ stream: AsyncThrowingStream<SourceDocument, any Error>) async -> (failure: String, confirmed: Bool) {
        let confirmations = StreamConfirmations()
        let silence = adapter.streamSilence
        let clock = self.clock
        let failure = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    for try await document in stream {
                        if document.confirmsStream, confirmations.count.add(1, ordering: .relaxed).newValue == 1 {
                            let fallback = Set(self.adapter.streamFallback.map(\.endpoint))
                            await self.record(self.state.withLock { $0.health.stream(up: true, replacing: fallback) })
                        }
                        await self.bridge.ingest(
                            endpoint: document.endpoint, document: document.document, sourceSaysReset: document.counterReset)
                        await self.record(self.state.withLock { $0.health.succeeded(endpoint: nil, at: .now) })
                    }
                    return "stream ended"
                } catch {
                    return String(describing: error)
                }
            }
            if let silence {
                group.addTask {
                    var seen = 0
                    while true {
                        do {
                            try await clock.sleep(for: silence)
                        } catch {
                            return nil
                        }
                        let now = confirmations.count.load(ordering: .relaxed)
                        if now == seen { return "no live data on the stream for \(silence)" }
                        seen = now
                    }
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? "stream ended"
        }
        return (failure, confirmations.count.load(ordering: .relaxed) > 0)
    }

    /// Logs a health transition once and updates availability.
    private func record(_ change: SourceHealth.Status?) async {
        guard let change else { return }
        let health = self.health
        switch change {
        case .online:
            logger.notice("Source online")
        case .degraded:
            logger.warning("Source degraded", metadata: ["error": "\(health.lastError ?? "")"])
        case .offline:
            logger.warning("Source offline", metadata: ["error": "\(health.lastError ?? "")"])
        case .starting:
            break
        }
        await bridge.setOnline(change != .offline)
        onStatusChange()
    }

    /// The health figures for `bridge/sources`.
    public func summary() async -> Bridge.SourceSummary {
        let health = self.health
        let statistics = await adapter.statistics()
        var details: [String: JSONValue] = [
            "consecutive_failures": .number(Double(health.consecutiveFailures)),
            "request_count": .number(Double(statistics.requests)),
        ]
        details["last_error"] = health.lastError.map(JSONValue.string)
        if let lastSuccess = health.lastSuccess {
            details["last_success_s_ago"] = .number(Double((ContinuousClock.now - lastSuccess).components.seconds))
        }
        if let latency = statistics.lastLatency {
            details["latency_ms"] = .number(Double(latency.components.attoseconds) / 1e15 + Double(latency.components.seconds) * 1000)
        }
        details["rate_budget_left"] = statistics.rateBudgetLeft.map { .number(Double($0)) }
        if let streamUp = health.streamUp { details["stream"] = .string(streamUp ? "up" : "down") }
        return Bridge.SourceSummary(
            id: id, type: bridge.configuration.type.rawValue, name: bridge.configuration.name,
            status: health.status.rawValue, details: .object(details))
    }
}

/// How many documents confirmed the current stream connection.
final class StreamConfirmations: Sendable {
    let count = Atomic<Int>(0)
}
