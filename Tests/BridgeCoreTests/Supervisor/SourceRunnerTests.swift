@testable import BridgeCore
import Foundation
import Logging
import Synchronization
import Testing
import TestSupport

/// A scripted adapter: healthy (counts up), throwing, or hanging; optionally with a stream.
final class ScriptedAdapter: SourceAdapter, Sendable {
    /// `stuck` ignores cancellation too (a call wedged in a library); `hanging` honours it.
    /// `noData` answers "no data yet", `rateLimited` a 429 with that Retry-After.
    enum Behaviour: Sendable { case healthy, throwing, hanging, stuck, noData, rateLimited(Duration) }

    let behaviour: Mutex<Behaviour>
    let reads = Mutex<[String]>([])
    let polls: [PollSchedule]
    let streamFallback: [PollSchedule]
    let streamDocuments: Mutex<[[JSONValue]]>
    let hasStream: Bool
    /// Streams deliver only a snapshot (`confirmsStream: false`) and then stay open, silent.
    let snapshotOnly: Bool
    let streamSilence: Duration?
    let streamsOpened = Mutex(0)
    /// Reads parked here for good (hanging until their deadline cancels them, or stuck).
    let parkedReads = Mutex(0)
    /// The calls a `stuck` adapter never returns from.
    static let wedged = Mutex<[CheckedContinuation<Void, Never>]>([])

    init(
        _ behaviour: Behaviour, polls: [PollSchedule], fallback: [PollSchedule] = [], streams: [[JSONValue]]? = nil,
        snapshotOnly: Bool = false, streamSilence: Duration? = nil
    ) {
        self.snapshotOnly = snapshotOnly
        self.streamSilence = streamSilence
        self.behaviour = Mutex(behaviour)
        self.polls = polls
        self.streamFallback = fallback
        self.streamDocuments = Mutex(streams ?? [])
        self.hasStream = streams != nil
    }

    struct Failure: Error, CustomStringConvertible {
        let description = "HTTP 500 from the device"
    }

    func read(endpoint: String) async throws -> JSONValue? {
        let count = reads.withLock { reads in
            reads.append(endpoint)
            return reads.count
        }
        switch behaviour.withLock({ $0 }) {
        case .healthy:
            return ["v": .number(Double(count))]
        case .throwing:
            throw Failure()
        case .hanging:
            parkedReads.withLock { $0 += 1 }
            defer { parkedReads.withLock { $0 -= 1 } }
            try await Task.sleep(for: .seconds(3600))
            return nil
        case .stuck:
            parkedReads.withLock { $0 += 1 }
            // Kept, never resumed: a leaked continuation would print a misuse warning.
            await withCheckedContinuation { continuation in Self.wedged.withLock { $0.append(continuation) } }
            return nil
        case .noData:
            throw SourceFailure.noDataYet("503 before the first telegram")
        case .rateLimited(let retryAfter):
            throw SourceFailure.rateLimited(retryAfter: retryAfter)
        }
    }

    /// Each call delivers the next scripted batch, then the stream drops (ends).
    func stream() -> AsyncThrowingStream<SourceDocument, any Error>? {
        streamsOpened.withLock { $0 += 1 }
        if snapshotOnly {
            return AsyncThrowingStream { continuation in
                continuation.yield(SourceDocument(endpoint: "snapshot", document: ["state": "CONNECTED"], confirmsStream: false))
            }
        }
        let batch = streamDocuments.withLock { batches in batches.isEmpty ? nil : batches.removeFirst() }
        return AsyncThrowingStream { continuation in
            for document in batch ?? [] { continuation.yield(SourceDocument(endpoint: "data", document: document)) }
            continuation.finish(throwing: batch == nil ? Failure() : nil)
        }
    }

    func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? { 200 }
}

@Suite("SourceRunner supervises sources in isolation")
struct SourceRunnerTests {
    static let mapping = """
        source: test
        entities:
          - { id: value, from: { endpoint: data, path: v }, device_class: power, unit: W }
        """

    func service(
        _ id: String, adapter: ScriptedAdapter, broker: InMemoryBroker, clock: ManualClock, logger: Logger
    ) async throws -> SourceRunner {
        let context = DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant")
        let bridge = SourcePublisher(
            configuration: SourceConfiguration(id: id, type: .tinyBMS, timeout: .seconds(1)),
            mapping: try MappingLoader.load(yaml: Self.mapping, file: "test.yaml"), context: context,
            settings: PublishSettings(), broker: broker,
            discovery: DiscoveryPublisher(context: context, broker: broker, logger: logger),
            availability: AvailabilityPublisher(context: context, broker: broker, logger: logger), logger: logger,
            now: { .now })
        return SourceRunner(bridge: bridge, adapter: adapter, clock: clock, logger: logger)
    }

    /// Lets the tasks run until `condition` holds: yields (no sleeps), bounded by 10 s of wall
    /// time so a loaded machine cannot make it give up early.
    func settle(_ condition: () -> Bool) async {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() && ContinuousClock.now < deadline {
            await Task.yield()
            if !condition() { try? await Task.sleep(for: .microseconds(200)) }
        }
    }

    /// Advances `clock` one second at a time until `condition` holds, at most `steps` simulated
    /// seconds. Before each step it waits until at least `parked` of the service's loops sleep on
    /// the clock (the 1 s tick and a poll, backoff or silence timer), so simulated time never runs
    /// ahead of tasks a loaded machine has not scheduled yet: the outcome depends on the steps,
    /// not on how fast the machine is. The wall-clock bound only turns a hang into a failure.
    ///
    /// With `runner` and `adapter`, it also waits while a read is between its deadline timer and
    /// the device, or between the device's answer and its end (unless the device parked it for
    /// good, when only the deadline ends it): the deadline timer and the tick are two sleepers
    /// too, and a step then would time out a read that was answered on a slow machine.
    func drive(
        _ clock: ManualClock, parked: Int = 2, steps: Int = 600, runner: SourceRunner? = nil, adapter: ScriptedAdapter? = nil,
        until condition: () -> Bool
    ) async {
        func readsSettled() -> Bool {
            guard let runner, let adapter else { return true }
            let (begun, done) = runner.readCounts
            return begun == adapter.reads.withLock { $0.count } && (done == begun || adapter.parkedReads.withLock { $0 } > 0)
        }
        for _ in 0..<steps where !condition() {
            let hang = ContinuousClock.now + .seconds(120)
            while (clock.sleeperCount < parked || !readsSettled()) && !condition() && ContinuousClock.now < hang {
                await Task.yield()
                try? await Task.sleep(for: .microseconds(200))
            }
            if condition() { return }
            clock.advance(by: .seconds(1))
        }
    }

    @Test("a throwing and a stuck source (ignoring cancellation) go offline; the healthy one keeps publishing on schedule", .timeLimit(.minutes(2)))
    func isolation() async throws {
        let broker = InMemoryBroker()
        let clock = ManualClock()
        let recorder = LogRecorder()
        let logger = Logger(label: "test") { _ in recorder }
        let every = [PollSchedule(endpoint: "data", every: .seconds(10))]
        let healthy = ScriptedAdapter(.healthy, polls: every)
        let services = [
            try await service("good", adapter: healthy, broker: broker, clock: clock, logger: logger),
            try await service("bad", adapter: ScriptedAdapter(.throwing, polls: every), broker: broker, clock: clock, logger: logger),
            try await service("stuck", adapter: ScriptedAdapter(.stuck, polls: every), broker: broker, clock: clock, logger: logger),
        ]
        await withTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try? await service.run() } }
            for round in 1...6 {
                await settle { healthy.reads.withLock { $0.count } >= round }
                await settle { broker.published(on: "api2mqtt/good").count >= round }
                // Every service asleep again (poll or read timeout, and tick): advancing earlier
                // would let a poll loop register its sleep after the advance and miss a round.
                await settle { clock.sleeperCount >= 6 }
                clock.advance(by: .seconds(10))
            }
            await settle { broker.retained["api2mqtt/stuck/availability"]?.payload == Array("offline".utf8) }
            group.cancelAll()
        }
        let states = broker.published(on: "api2mqtt/good").map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(states.count >= 6)
        #expect(states.first == #"{"value":1}"#)
        #expect(broker.retained["api2mqtt/good/availability"]?.payload == Array("online".utf8))
        #expect(broker.retained["api2mqtt/bad/availability"]?.payload == Array("offline".utf8))
        #expect(broker.retained["api2mqtt/stuck/availability"]?.payload == Array("offline".utf8))
        #expect(services[1].health.lastError == "HTTP 500 from the device")
        #expect(services[2].health.lastError?.contains("no answer within") == true)
        // One line per transition, not one per failed poll.
        #expect(recorder.lines.filter { $0.contains("Source offline") && $0.contains("source.id=bad") }.count == 1)
    }

    @Test("at rest the tick sleeps until work is due (here: none), not every second", .timeLimit(.minutes(2)))
    func tickSleepsAtRest() async throws {
        let broker = InMemoryBroker()
        let clock = ManualClock()
        let adapter = ScriptedAdapter(.healthy, polls: [PollSchedule(endpoint: "data", every: .seconds(10))])
        let runner = try await service("quiet", adapter: adapter, broker: broker, clock: clock, logger: Logger(label: "test"))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runner.run() }
            // The poll sleeps its 10 s; the tick has nothing to do, so it waits to be told
            // (before: a 1 s sleep, every second).
            await settle { clock.sleepsLeft == [.seconds(10), .seconds(86_400)] }
            #expect(clock.sleepsLeft == [.seconds(10), .seconds(86_400)])
            #expect(broker.published(on: "api2mqtt/quiet").count == 1)
            group.cancelAll()
        }
    }

    @Test("a debounced change is released when its window ends, with no other event to wake the tick", .timeLimit(.minutes(2)))
    func tickWakesForHeldValue() async throws {
        let broker = InMemoryBroker()
        let clock = ManualClock()
        let logger = Logger(label: "test")
        let context = DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant")
        let origin = ContinuousClock.now
        let bridge = SourcePublisher(
            configuration: SourceConfiguration(id: "fast", type: .tinyBMS, timeout: .seconds(1)),
            mapping: try MappingLoader.load(
                yaml: """
                    source: test
                    entities:
                      - { id: value, from: { endpoint: data, path: v }, device_class: power, unit: W, debounce: 5s }
                    """, file: "test.yaml"),
            context: context, settings: PublishSettings(), broker: broker,
            discovery: DiscoveryPublisher(context: context, broker: broker, logger: logger),
            availability: AvailabilityPublisher(context: context, broker: broker, logger: logger), logger: logger,
            now: { origin + clock.now.offset })
        // Counts up every 2 s: 1 goes out at 0 s; 2 (2 s) and 3 (4 s) are held until 5 s.
        let adapter = ScriptedAdapter(.healthy, polls: [PollSchedule(endpoint: "data", every: .seconds(2))])
        let runner = SourceRunner(bridge: bridge, adapter: adapter, clock: clock, logger: logger)
        let states = { broker.published(on: "api2mqtt/fast").map { String(decoding: $0.payload, as: UTF8.self) } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runner.run() }
            await drive(clock, steps: 5, runner: runner, adapter: adapter) { false }
            #expect(clock.now.offset == .seconds(5))
            await settle { states().count >= 2 }
            #expect(states() == [#"{"value":1}"#, #"{"value":3}"#])
            group.cancelAll()
        }
    }

    @Test("while the stream is down the fallback endpoint is polled; the stream comes back")
    func streamFallback() async throws {
        let broker = InMemoryBroker()
        let clock = ManualClock()
        let logger = Logger(label: "test")
        let adapter = ScriptedAdapter(
            .healthy, polls: [], fallback: [PollSchedule(endpoint: "data", every: .seconds(5))],
            streams: [[["v": 100], ["v": 101]], [["v": 200]]])
        let service = try await service("han", adapter: adapter, broker: broker, clock: clock, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await service.run() }
            await settle { broker.published(on: "api2mqtt/han").count >= 2 }
            // The first stream ended: the fallback polls while the supervisor backs off.
            await settle { service.health.streamUp == false }
            await settle { broker.published(on: "api2mqtt/han").contains { $0.payload == Array(#"{"value":1}"#.utf8) } }
            // The supervisor backs off 1 s before reconnecting; advance until it has.
            await drive(clock, runner: service, adapter: adapter) { broker.published(on: "api2mqtt/han").contains(where: { $0.payload == Array(#"{"value":200}"#.utf8) }) }
            group.cancelAll()
        }
        let values = broker.published(on: "api2mqtt/han").map { String(decoding: $0.payload, as: UTF8.self) }
        // The first fallback poll may run before the stream's first document (the stream is not
        // up yet at start), so only the stream's own order is fixed.
        let first = values.firstIndex(of: #"{"value":100}"#)
        let second = values.firstIndex(of: #"{"value":101}"#)
        #expect(first != nil && second != nil && first! < second!, "\(values)")
        #expect(values.contains(#"{"value":1}"#), "the fallback poll delivered while the stream was down: \(values)")
        #expect(values.contains(#"{"value":200}"#))
        #expect(adapter.reads.withLock { $0 }.allSatisfy { $0 == "data" })
    }

    @Test("a stream that only sends its connect snapshot does not count as up: the fallback keeps polling")
    func snapshotOnlyStream() async throws {
        let broker = InMemoryBroker()
        let clock = ManualClock()
        let logger = Logger(label: "test")
        let adapter = ScriptedAdapter(
            .healthy, polls: [], fallback: [PollSchedule(endpoint: "data", every: .seconds(5))],
            streams: [[["state": "CONNECTED"]]], snapshotOnly: true)
        let service = try await service("han", adapter: adapter, broker: broker, clock: clock, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await service.run() }
            await settle { adapter.reads.withLock { $0.count } >= 1 }
            // Time passes in small steps until the fallback has polled twice more.
            await drive(clock, runner: service, adapter: adapter) { adapter.reads.withLock { $0.count } >= 3 }
            group.cancelAll()
        }
        #expect(service.health.streamUp != true)
        #expect(adapter.reads.withLock { $0.count } >= 3, "the fallback endpoint is polled while the stream only sends snapshots")
        #expect(broker.published(on: "api2mqtt/han").contains { $0.payload == Array(#"{"value":3}"#.utf8) })
    }

    @Test("a stream silent for the adapter's streamSilence is ended, reported down and reconnected later")
    func silentStreamEnded() async throws {
        let broker = InMemoryBroker()
        let clock = ManualClock()
        let logger = Logger(label: "test")
        let adapter = ScriptedAdapter(
            .healthy, polls: [], fallback: [PollSchedule(endpoint: "data", every: .seconds(60))], streams: [],
            snapshotOnly: true, streamSilence: .seconds(30))
        let service = try await service("han", adapter: adapter, broker: broker, clock: clock, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await service.run() }
            // Time passes in small steps until the silent stream was ended and opened again.
            await drive(clock, runner: service, adapter: adapter) { adapter.streamsOpened.withLock { $0 } >= 2 }
            group.cancelAll()
        }
        #expect(adapter.streamsOpened.withLock { $0 } >= 2, "the silent stream was ended and reconnected")
        #expect(service.health.lastError?.contains("no live data on the stream") == true, "\(service.health.lastError ?? "")")
        #expect(service.health.streamUp != true)
    }

    @Test("'no data yet' is read again with backoff (5, 10, 20 s…) until it answers, not at the hourly interval, and is no failure")
    func noDataYetRetried() async throws {
        let broker = InMemoryBroker()
        let clock = ManualClock()
        let logger = Logger(label: "test")
        let adapter = ScriptedAdapter(.noData, polls: [PollSchedule(endpoint: "data", every: .seconds(3600))])
        let service = try await service("han", adapter: adapter, broker: broker, clock: clock, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await service.run() }
            await settle { adapter.reads.withLock { $0.count } >= 1 }
            await drive(clock, runner: service, adapter: adapter) { adapter.reads.withLock { $0.count } >= 3 }
            // Reads at 0, 5 and 15 s: the poll paused 5, then 10 s, never the hourly interval.
            // (The pauses the runner asked for, not the clock's time: `drive` may step a second
            // past the read while the read's own deadline timer is parked beside the tick.)
            let pauses = clock.requestedSleeps.filter { $0 >= .seconds(5) && $0 < .seconds(86_400) }
            #expect(Array(pauses.prefix(2)) == [.seconds(5), .seconds(10)], "\(clock.requestedSleeps)")
            #expect(!pauses.contains(.seconds(3600)), "\(clock.requestedSleeps)")
            #expect(clock.now.offset < .seconds(60), "\(clock.now.offset)")
            #expect(service.health.status != .offline)
            #expect(service.health.consecutiveFailures == 0)
            adapter.behaviour.withLock { $0 = .healthy }
            await drive(clock, runner: service, adapter: adapter) { !broker.published(on: "api2mqtt/han").isEmpty }
            let answered = adapter.reads.withLock { $0.count }
            // After the first answer the endpoint is back on its hourly schedule.
            await drive(clock, steps: 120, runner: service, adapter: adapter) { adapter.reads.withLock { $0.count } > answered }
            #expect(adapter.reads.withLock { $0.count } == answered)
            group.cancelAll()
        }
        #expect(service.health.status == .online)
    }

    @Test("a 429 is waiting, not failing: the source stays available and is not read again before Retry-After")
    func rateLimitedWaits() async throws {
        let broker = InMemoryBroker()
        let clock = ManualClock()
        let logger = Logger(label: "test")
        let adapter = ScriptedAdapter(.rateLimited(.seconds(90)), polls: [PollSchedule(endpoint: "data", every: .seconds(10))])
        let service = try await service("han", adapter: adapter, broker: broker, clock: clock, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await service.run() }
            await settle { adapter.reads.withLock { $0.count } >= 1 }
            await drive(clock, steps: 89, runner: service, adapter: adapter) { adapter.reads.withLock { $0.count } >= 2 }
            #expect(adapter.reads.withLock { $0.count } == 1, "no read before Retry-After")
            await drive(clock, steps: 5, runner: service, adapter: adapter) { adapter.reads.withLock { $0.count } >= 2 }
            #expect(adapter.reads.withLock { $0.count } == 2)
            group.cancelAll()
        }
        #expect(service.health.consecutiveFailures == 0)
        #expect(service.health.status != .offline)
        #expect(service.health.lastError?.contains("rate limited") == true)
        #expect(await service.isAvailable)
    }

    @Test("a 429 on a daily endpoint costs a minute, not a day: read again after max(Retry-After, 60 s), then daily")
    func rateLimitedSlowEndpointRetriesSoon() async throws {
        let broker = InMemoryBroker()
        let clock = ManualClock()
        let logger = Logger(label: "test")
        let adapter = ScriptedAdapter(.rateLimited(.seconds(30)), polls: [PollSchedule(endpoint: "data", every: .seconds(86_400))])
        let service = try await service("fh", adapter: adapter, broker: broker, clock: clock, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await service.run() }
            await settle { adapter.reads.withLock { $0.count } >= 1 }
            await drive(clock, steps: 59, runner: service, adapter: adapter) { adapter.reads.withLock { $0.count } >= 2 }
            #expect(adapter.reads.withLock { $0.count } == 1, "not before 60 s (Retry-After 30 s, floor 60 s)")
            await drive(clock, steps: 5, runner: service, adapter: adapter) { adapter.reads.withLock { $0.count } >= 2 }
            #expect(adapter.reads.withLock { $0.count } == 2, "read again within about a minute")
            // Answered now: back on the daily schedule.
            adapter.behaviour.withLock { $0 = .healthy }
            await drive(clock, steps: 65, runner: service, adapter: adapter) { adapter.reads.withLock { $0.count } >= 3 }
            #expect(adapter.reads.withLock { $0.count } == 3, "the retry after the second 429")
            await drive(clock, steps: 600, runner: service, adapter: adapter) { adapter.reads.withLock { $0.count } >= 4 }
            #expect(adapter.reads.withLock { $0.count } == 3, "then daily, not every minute")
            group.cancelAll()
        }
        #expect(service.health.status != .offline)
    }
}
