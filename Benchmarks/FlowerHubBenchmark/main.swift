// FlowerHub portal: requests per hour per endpoint at the default configuration, and the session
// work (logins, refreshes, 401s) over 24 simulated hours, for the documented portal and for the
// real portal's shape (FIELD-NOTES: no ETags, uptime only under /asset-effective-uptime, both
// refresh shapes, a 429 with Retry-After every 25th request, Origin required).
//
// Usage: FlowerHubBenchmark [hours] [mappings directory]
// (Benchmarks/run-flowerhub-benchmark builds it and runs it from the package root.)
//
// The bridge is the product's wiring in this process: `Bridge`, `ConfiguredSources` (its
// `SourcePublisher` and `SourceRunner`), the flowerhub adapter made from the configuration, the
// built-in mapping, and a libmosquitto client connected to a real mosquitto on a free loopback
// port; the simulator serves the portal over real sockets on 127.0.0.1. One manual clock moves
// the runner's schedules and read deadlines, the adapter's clock (rate budget, retries, cookie
// expiry) and the simulator's (physics, cookie lifetimes, Retry-After windows): time only moves
// when every poll loop and the runner's tick are asleep on it (each in-flight read is asleep
// too, in a retry, or time waits for it), and then to the next wake-up, at most one second on.
//
// Counted, never assumed: requests per path from the simulator's request log (snapshotted at
// every simulated hour), the portal's own counters (logins, refreshes, 401s, 304s, 429s), each
// read's outcome as the runner saw it (a pass-through around the adapter), and from MQTT (a probe
// subscribed to api2mqtt/#): availability messages and state messages.
import Adapters
import BridgeCore
import BrokerLink
import Foundation
import Logging
import Mosquitto
import ServiceLifecycle
import Simulators
import SourceKit
import Synchronization
import TestSupport

// Only warnings and errors of the bridge, the probe and the simulator reach stderr.
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let arguments = CommandLine.arguments
let hours = arguments.count > 1 ? max(1, Int(arguments[1]) ?? 24) : 24
let mappingsDirectory = arguments.count > 2 ? arguments[2] : "Mappings"
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    return logger
}()

// MARK: The shared clock

/// A clock that only moves when the driver says so; it knows each sleeper's requested duration,
/// so the driver can tell the runner's read deadlines (which run while a read is in flight)
/// from the sleeps of parked work.
final class SharedClock: Clock, Sendable {
    typealias Instant = ContinuousClock.Instant
    typealias Duration = Swift.Duration

    private struct Sleeper {
        let id: UInt64
        let deadline: Instant
        let duration: Duration
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Instant
        var fractionalSleeps = 0
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        var cancelled: Set<UInt64> = []
    }

    private let state: Mutex<State>
    let origin: Instant

    init() {
        let origin = ContinuousClock.now
        self.origin = origin
        state = Mutex(State(now: origin))
    }

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }
    var elapsed: Duration { now - origin }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    if (deadline - state.now).components.attoseconds != 0 { state.fractionalSleeps += 1 }
                    state.sleepers.append(
                        Sleeper(id: id, deadline: deadline, duration: deadline - state.now, continuation: continuation))
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { state in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Sleeps that were not whole seconds: the runner's schedules, deadlines and tick and the
    /// portal's Retry-After are whole seconds, so these are the adapter's jittered retry waits.
    var fractionalSleeps: Int { state.withLock { $0.fractionalSleeps } }

    /// Sleepers other than those that slept for `excluded`, and the earliest deadline of all.
    func sleepers(excludingDuration excluded: Duration) -> (count: Int, all: Int, next: Instant?) {
        state.withLock { state in
            (state.sleepers.filter { $0.duration != excluded }.count, state.sleepers.count, state.sleepers.map(\.deadline).min())
        }
    }

    /// Moves time to `instant` and wakes every sleeper whose deadline has come.
    func advance(to instant: Instant) {
        let due: [Sleeper] = state.withLock { state in
            state.now = max(state.now, instant)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}

/// The adapter's view of the shared clock: monotonic time, and the simulator's wall clock.
struct AdapterClock: SourceClock {
    let shared: SharedClock
    let start: Date

    var now: ContinuousClock.Instant { shared.now }
    var wallClock: Date { start.addingTimeInterval(Double(shared.elapsed.components.seconds) + Double(shared.elapsed.components.attoseconds) / 1e18) }
    func sleep(for duration: Duration) async throws { try await shared.sleep(until: shared.now + duration, tolerance: nil) }
}

struct PoolService: Service {
    let pool: HTTPClientPool
    func run() async throws {
        try? await gracefulShutdown()
        await pool.shutdown()
    }
}

// MARK: Read outcomes

/// What the runner got from each read, per endpoint.
struct Outcomes: Sendable {
    var documents = 0
    var unchanged = 0
    var rateLimited = 0
    var unauthorized = 0
    var failed = 0
}

/// Passes everything through to the adapter and counts each read's outcome.
final class CountingAdapter: SourceAdapter {
    let inner: any SourceAdapter
    let outcomes = Mutex<[String: Outcomes]>([:])

    init(_ inner: any SourceAdapter) { self.inner = inner }

    var polls: [PollSchedule] { inner.polls }
    var streamFallback: [PollSchedule] { inner.streamFallback }
    var hasStream: Bool { inner.hasStream }
    func stream() -> AsyncThrowingStream<SourceDocument, any Error>? { inner.stream() }
    var streamSilence: Duration? { inner.streamSilence }
    var maximumBudgetWait: Duration { inner.maximumBudgetWait }
    func statistics() async -> AdapterStatistics { await inner.statistics() }
    func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? { try await inner.execute(call) }
    func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        try await inner.perform(action: action, value: value, childKey: childKey)
    }

    func read(endpoint: String) async throws -> JSONValue? {
        do {
            let document = try await inner.read(endpoint: endpoint)
            outcomes.withLock { if document == nil { $0[endpoint, default: .init()].unchanged += 1 } else { $0[endpoint, default: .init()].documents += 1 } }
            return document
        } catch {
            outcomes.withLock { outcomes in
                switch SourceFailure(classifying: error) {
                case .rateLimited: outcomes[endpoint, default: .init()].rateLimited += 1
                case .unauthorized: outcomes[endpoint, default: .init()].unauthorized += 1
                default: outcomes[endpoint, default: .init()].failed += 1
                }
            }
            throw error
        }
    }
}

// MARK: One run

struct Shape {
    var name: String
    var quirks: Set<Quirk>
    /// `nil`: the simulator's default (7 days).
    var refreshCookieLifetime: Duration? = nil
}

struct HourSnapshot {
    var requests: [String: Int]
    var state: FlowerHubState
}

func pathKey(_ path: String, account: FlowerHubSimulator.Account) -> String {
    path.replacingOccurrences(of: "/\(account.assetOwnerId)", with: "/{owner}")
        .replacingOccurrences(of: "/\(account.assetId)", with: "/{asset}")
}

func counts(_ log: RequestLog, account: FlowerHubSimulator.Account) -> [String: Int] {
    var counts: [String: Int] = [:]
    for request in log.all { counts[pathKey(request.path, account: account), default: 0] += 1 }
    return counts
}

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}

func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

/// The simulated start: a morning in the middle of a month (no month end within the day).
let startDate = Date(timeIntervalSince1970: 1_773_468_000)  // 2026-03-14T06:00:00Z

func run(_ shape: Shape, broker: MosquittoBroker) async throws {
    let clock = SharedClock()
    var simulatorConfiguration = FlowerHubSimulator.Configuration(
        seed: 16, tickInterval: .seconds(60), timeMode: .manual, startDate: startDate, quirks: shape.quirks)
    if let lifetime = shape.refreshCookieLifetime { simulatorConfiguration.refreshTokenLifetime = lifetime }
    let simulator = FlowerHubSimulator(configuration: simulatorConfiguration)
    let account = simulator.configuration.account
    let port = try await simulator.start()
    let adapterClock = AdapterClock(shared: clock, start: startDate)

    let base = "api2mqtt"
    let yaml = """
        mqtt:
          url: \(broker.url)
          client_id: flowerhub-benchmark
        http:
          enabled: false
        sources:
          - id: battery
            type: flowerhub
            name: Home battery
            url: http://127.0.0.1:\(port)
            username: \(account.username)
            password: \(account.password)
        """
    let configuration = try ConfigLoader.load(yaml: yaml, file: "flowerhub-benchmark.yaml", environment: [:])
    guard let source = configuration.sources.first else { throw TestSupportError("no source in the configuration") }
    let mappings = try MappingLoader.load(builtIn: mappingsDirectory)
    let unserved = SourceRegistry.endpointErrors(configuration: configuration, mappings: mappings)
    guard unserved.isEmpty else { throw TestSupportError(unserved.joined(separator: "; ")) }

    let client = try MosquittoClient(configuration: configuration.mqtt.benchmarkClientConfiguration(), logger: logger)
    let connection = MosquittoBrokerConnection(client: client)
    let bridge = Bridge(configuration: configuration, broker: connection, logger: logger)
    let pool = HTTPClientPool(logger: logger)
    // The adapter the registry would make, with the shared clock.
    let adapter = CountingAdapter(try FlowerHubAdapter(configuration: source, pool: pool, logger: logger, clock: adapterClock))
    let sources = try await ConfiguredSources(
        bridgeService: bridge, mappings: mappings, adapters: { _ in adapter }, clock: clock, logger: logger)
    guard let runner = sources.services.first else { throw TestSupportError("the source was not built") }
    // Every poll loop and the runner's tick parked; the runner's read deadline is recognised by its length.
    let parked = adapter.polls.count + 1
    let readDeadline = source.timeout * 2 + adapter.maximumBudgetWait

    print("")
    print("== \(shape.name): \(hours) simulated hours, poll_interval default (\(adapter.polls.first.map { "\($0.interval)" } ?? "?")), access cookie \(simulator.configuration.accessTokenLifetime), refresh cookie \(simulator.configuration.refreshTokenLifetime)")
    print("   quirks: \(shape.quirks.isEmpty ? "none" : shape.quirks.map(\.description).sorted().joined(separator: ", "))")
    print("   schedules: " + adapter.polls.map { "\($0.endpoint) \($0.interval)" }.joined(separator: ", "))

    let realStart = ContinuousClock.now
    try await MQTTProbe.with(broker) { probe in
        try await probe.subscribe("\(base)/#")
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: MosquittoService(client: client)), .init(service: BrokerMessagePump(client: client, bridge: bridge)),
                    .init(service: PoolService(pool: pool)),
                ] + sources.services.map { .init(service: $0) } + [.init(service: bridge)],
                logger: logger))
        // Before the bridge starts: the session work counted is all the bridge's.
        let baseline = simulator.state
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await client.waitUntilConnected(timeout: .seconds(30))

            /// Waits until every poll loop and the tick are parked on the clock.
            func settle() async throws {
                var spins = 0
                let hang = ContinuousClock.now + .seconds(300)
                while clock.sleepers(excludingDuration: readDeadline).count < parked {
                    spins += 1
                    if spins < 50 {
                        await Task.yield()
                    } else {
                        try await Task.sleep(for: .microseconds(200))
                    }
                    if ContinuousClock.now > hang {
                        throw TestSupportError("nothing parked for 300 s (real) at \(clock.elapsed): \(clock.sleepers(excludingDuration: readDeadline))")
                    }
                }
            }

            var snapshots: [HourSnapshot] = [HourSnapshot(requests: [:], state: baseline)]
            let end = clock.origin + .seconds(hours * 3600)
            try await settle()
            while clock.now < end {
                let now = clock.now
                let next = min(clock.sleepers(excludingDuration: readDeadline).next ?? (now + .seconds(1)), now + .seconds(1), end)
                if (next - clock.origin).components.seconds % 3600 == 0 && next > now {
                    // Everything before this hour is in; requests made at the hour belong to it.
                    snapshots.append(HourSnapshot(requests: counts(simulator.requests, account: account), state: simulator.state))
                }
                if next >= end { break }
                simulator.advance(by: next - now)
                clock.advance(to: next)
                try await settle()
            }
            if snapshots.count < hours + 1 {
                snapshots.append(HourSnapshot(requests: counts(simulator.requests, account: account), state: simulator.state))
            }
            // Everything the bridge published so far has reached the probe once this marker,
            // sent after it over the same connection, has.
            try await client.publish("\(base)/benchmark/end", payload: Array("end".utf8), qos: .atLeastOnce)
            _ = try await probe.next(on: "\(base)/benchmark/end", timeout: .seconds(60))
            let health = runner.health
            let summary = await runner.summary()
            let realSeconds = Double((ContinuousClock.now - realStart).components.seconds)
            report(
                shape, snapshots: snapshots, adapter: adapter, probe: probe, base: base, sourceID: source.id,
                health: health.status.rawValue, lastError: summary.details["last_error"]?.stringValue, realSeconds: realSeconds,
                retryWaits: clock.fractionalSleeps)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
    await simulator.stop()
}

func report(
    _ shape: Shape, snapshots: [HourSnapshot], adapter: CountingAdapter, probe: MQTTProbe, base: String, sourceID: String,
    health: String, lastError: String?, realSeconds: Double, retryWaits: Int
) {
    guard let last = snapshots.last, let first = snapshots.first else { return }
    let hourCount = snapshots.count - 1
    let paths = last.requests.keys.sorted { (last.requests[$0] ?? 0, $1) > (last.requests[$1] ?? 0, $0) }
    var perHour: [String: [Int]] = [:]
    for path in paths {
        perHour[path] = (1...hourCount).map { (snapshots[$0].requests[path] ?? 0) - (snapshots[$0 - 1].requests[path] ?? 0) }
    }
    let totals = (1...hourCount).map { hour in
        snapshots[hour].requests.values.reduce(0, +) - snapshots[hour - 1].requests.values.reduce(0, +)
    }
    let width = max(40, (paths.map(\.count).max() ?? 0) + 2)
    print("")
    print("   " + pad("path", width) + pad("total", 8, right: true) + pad("mean/h", 9, right: true) + pad("hour 1", 8, right: true)
        + pad("min h≥2", 9, right: true) + pad("max h≥2", 9, right: true))
    func row(_ name: String, _ series: [Int]) {
        let total = series.reduce(0, +)
        let later = series.dropFirst()
        print("   " + pad(name, width) + pad("\(total)", 8, right: true) + pad(fixed(Double(total) / Double(series.count)), 9, right: true)
            + pad("\(series.first ?? 0)", 8, right: true) + pad("\(later.min() ?? 0)", 9, right: true)
            + pad("\(later.max() ?? 0)", 9, right: true))
    }
    for path in paths { row(path, perHour[path] ?? []) }
    row("all paths", totals)

    let state = last.state
    let base0 = first.state
    print("")
    print("   session over \(hourCount) h: logins \(state.logins - base0.logins) (refused \(state.failedLogins - base0.failedLogins)), "
        + "refreshes \(state.refreshes - base0.refreshes) (refused \(state.failedRefreshes - base0.failedRefreshes)), "
        + "401s \(state.unauthorizedRequests - base0.unauthorizedRequests)")
    let hourly401 = (1...hourCount).map { snapshots[$0].state.unauthorizedRequests - snapshots[$0 - 1].state.unauthorizedRequests }
    let hourlyRefresh = (1...hourCount).map { snapshots[$0].state.refreshes - snapshots[$0 - 1].state.refreshes }
    let hourlyLogin = (1...hourCount).map { snapshots[$0].state.logins - snapshots[$0 - 1].state.logins }
    print("   per hour: logins max \(hourlyLogin.max() ?? 0); refreshes min \(hourlyRefresh.min() ?? 0) max \(hourlyRefresh.max() ?? 0); 401s min \(hourly401.min() ?? 0) max \(hourly401.max() ?? 0)")
    print("   answers: 304 \(state.notModifiedResponses - base0.notModifiedResponses), 429 \(state.rateLimitedResponses - base0.rateLimitedResponses) "
        + "(of which inside a Retry-After window \(state.requestsWhileRateLimited - base0.requestsWhileRateLimited))")
    print("   retries inside reads (jittered waits on the shared clock, after a transient failure): \(retryWaits)")
    print("   battery system: \(state.disconnections - base0.disconnections) drop(s) to Disconnected; uptime this month \(state.uptimePercent) %")

    print("")
    print("   read outcomes per endpoint (as the runner saw them):")
    print("   " + pad("endpoint", 16) + pad("reads", 7, right: true) + pad("document", 10, right: true) + pad("unchanged", 11, right: true)
        + pad("429-wait", 10, right: true) + pad("401", 6, right: true) + pad("failed", 8, right: true))
    let outcomes = adapter.outcomes.withLock { $0 }
    for schedule in adapter.polls {
        let o = outcomes[schedule.endpoint] ?? Outcomes()
        let reads = o.documents + o.unchanged + o.rateLimited + o.unauthorized + o.failed
        print("   " + pad(schedule.endpoint, 16) + pad("\(reads)", 7, right: true) + pad("\(o.documents)", 10, right: true)
            + pad("\(o.unchanged)", 11, right: true) + pad("\(o.rateLimited)", 10, right: true) + pad("\(o.unauthorized)", 6, right: true)
            + pad("\(o.failed)", 8, right: true))
    }

    let availability = probe.messages(on: "\(base)/\(sourceID)/availability").map(\.payloadString)
    let states = probe.messages(on: "\(base)/\(sourceID)")
    print("")
    print("   MQTT: availability messages \(availability.count) (\(availability.filter { $0 == "online" }.count) online, "
        + "\(availability.filter { $0 == "offline" }.count) offline), last \(availability.last ?? "none"); state messages \(states.count); "
        + "source status at the end: \(health)\(lastError.map { " (last error: \($0))" } ?? "")")
    print("   real time: \(fixed(realSeconds, 0)) s for \(hourCount) simulated hours")
}

extension MQTTSettings {
    /// The product's client settings (Bridge+build.swift): state topic as will, birth and farewell.
    func benchmarkClientConfiguration() -> MosquittoConfiguration {
        let stateTopic = BridgeTopics(base: baseTopic).state
        return MosquittoConfiguration(
            scheme: url.scheme == .mqtts ? .mqtts : .mqtt, host: url.host, port: url.port, clientID: clientID,
            protocolVersion: protocolVersion == .v5 ? .v5 : .v311, keepalive: Int(keepalive.components.seconds),
            will: Mosquitto.OutgoingMessage(topic: stateTopic, payload: "offline", qos: .atLeastOnce, retain: true),
            birth: Mosquitto.OutgoingMessage(topic: stateTopic, payload: "online", qos: .atLeastOnce, retain: true),
            farewell: Mosquitto.OutgoingMessage(topic: stateTopic, payload: "offline", qos: .atLeastOnce, retain: true),
            reconnectMaxDelay: Int(reconnectMaxDelay.components.seconds), offlineQueueLimit: offlineQueueLimit,
            publishTimeout: publishTimeout)
    }
}

// MARK: Main

let shapes = [
    Shape(name: "documented portal (ETags, /asset-uptime, one refresh shape)", quirks: []),
    Shape(
        name: "real portal (quirks: no ETags, /asset-effective-uptime only, both refresh shapes, 429 every 25th request, Origin required)",
        quirks: FlowerHubSimulator.realPortalQuirks),
    // Not the default: the refresh cookie expiring every 2 hours, to see the logins it costs.
    Shape(
        name: "documented portal, refresh cookie 2 h instead of 7 days (session stress, not the default)", quirks: [],
        refreshCookieLifetime: .seconds(2 * 3600)),
]
print("FlowerHub: requests per endpoint and session work over \(hours) simulated hours at the default configuration")
do {
    // A broker per run, so no retained message of one run reaches the next one's probe.
    for shape in shapes {
        try await MosquittoBroker.with(.init(logsEveryPacket: false)) { broker in try await run(shape, broker: broker) }
    }
} catch {
    print("benchmark failed: \(error)")
    exit(1)
}
