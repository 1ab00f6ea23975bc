import Adapters
import BridgeCore
import Foundation
import Logging
import Mosquitto
import Simulators
import Synchronization
import TestSupport

/// All five source types in one in-process bridge (``InProcessBridge``) through a real mosquitto,
/// on one ``SimulatedClock``: the runners' schedules, the Fritz!Box and FlowerHub adapters' budgets
/// and retries, and every simulator move together (each simulator on manual time: the HAN reader
/// sends a telegram every 10 s, the TinyBMS gateway a telemetry frame every 1 s, the CSMS ticks
/// every 5 s, the router and the portal advance with the clock).
///
/// The other adapters (HAN, TinyBMS, OCPP) have their rate budgets (the pause after a 429) and
/// the OCPP list cache on the simulated clock, but take their retry pauses and stream reconnects
/// in real time; while one of those is under way (a read in flight, or a stream the adapter holds
/// open that the simulator does not) the driver waits for it and simulated time stands still.
///
/// A run records every message the subscriber received with the simulated time it arrived at.
public final class AllSourcesRun: Sendable {
    /// The five sources, by their configured id.
    public enum Source: String, CaseIterable, Sendable, CustomStringConvertible {
        case cozifyHAN = "han"
        case tinyBMS = "bms"
        case ocppCSMS = "csms"
        case fritzNetwork = "router"
        case flowerHub = "battery"

        public var description: String { rawValue }

        /// The source's shortest schedule: the reader's telegram cadence and `/meter` fallback
        /// (`poll_interval` 10 s), the gateway's `/api/status` fallback (5 s), the CSMS lists (15 s),
        /// the router's live documents at 10 requests a minute (31 s), the portal's asset (60 s).
        public var interval: Duration {
            switch self {
            case .cozifyHAN: .seconds(10)
            case .tinyBMS: .seconds(5)
            case .ocppCSMS: .seconds(15)
            case .fritzNetwork: .seconds(31)
            case .flowerHub: .seconds(60)
            }
        }

        /// How long the source's stream may carry no live data before the supervisor ends it (the
        /// adapter's `streamSilence`; checked every that long, so it ends after one to two); nil
        /// without one.
        public var streamSilence: Duration? {
            switch self {
            case .cozifyHAN, .tinyBMS: .seconds(30)
            case .ocppCSMS, .fritzNetwork, .flowerHub: nil
            }
        }

        /// Whether the source keeps a stream open (SSE, WebSocket) next to its polls.
        public var hasStream: Bool { self == .cozifyHAN || self == .tinyBMS || self == .ocppCSMS }

        /// Whether a topic belongs to one of this source's devices (`<base>/<id>…`, `<base>/<id>_<child>…`).
        public func owns(_ topic: String) -> Bool {
            let device = "api2mqtt/" + rawValue
            return topic == device || topic.hasPrefix(device + "/") || topic.hasPrefix(device + "_")
        }
    }

    /// What to run.
    public struct Settings: Sendable {
        /// Every source's `timeout` (one HTTP request), in the configuration's syntax. The runner's
        /// read deadline is twice this plus the adapter's budget wait; the driver tells those
        /// deadlines from other sleepers by their length, so no schedule may be that long.
        public var timeout = "4s700ms"
        /// A swift-log level name (`debug`, `info`, …): when set, the bridge logs at that level with
        /// the simulated time on each line (``SimulatedTimeLogHandler``) instead of through the
        /// logger passed in.
        public var trace: String?

        public init() {}
    }

    /// A message the subscriber received, and the simulated time it arrived at.
    public struct Received: Sendable {
        public var at: Duration
        public var message: MQTTMessage
    }

    public let settings: Settings
    public let han: CozifyHANSimulator
    public let bms: TinyBMSSimulator
    public let csms: OCPPCSMSSimulator
    public let router: FritzNetworkSimulator
    public let portal: FlowerHubSimulator
    public let clock: SimulatedClock
    public let probe: MQTTProbe
    public let bridge: InProcessBridge
    public let driver: BridgeClockDriver
    private let record = Mutex<(messages: [Received], seen: Int)>(([], 0))

    init(
        settings: Settings, simulators: Simulators, clock: SimulatedClock, probe: MQTTProbe, bridge: InProcessBridge,
        driver: BridgeClockDriver
    ) {
        self.settings = settings
        self.han = simulators.han
        self.bms = simulators.bms
        self.csms = simulators.csms
        self.router = simulators.router
        self.portal = simulators.portal
        self.clock = clock
        self.probe = probe
        self.bridge = bridge
        self.driver = driver
    }

    /// The simulator behind a source.
    public func simulator(_ source: Source) -> any ControllableSimulator {
        switch source {
        case .cozifyHAN: han
        case .tinyBMS: bms
        case .ocppCSMS: csms
        case .fritzNetwork: router
        case .flowerHub: portal
        }
    }

    struct Simulators: Sendable {
        let han: CozifyHANSimulator
        let bms: TinyBMSSimulator
        let csms: OCPPCSMSSimulator
        let router: FritzNetworkSimulator
        let portal: FlowerHubSimulator

        var all: [any ControllableSimulator] { [han, bms, csms, router, portal] }
    }

    /// Moves the simulators that count in whole periods (telegrams, frames, ticks) by `step`.
    final class Cadence: Sendable {
        private let elapsed = Mutex(Duration.zero)

        /// How many multiples of `period` the step from the previous total to the new one crossed, per period.
        func advance(by step: Duration, periods: [Duration]) -> [Int] {
            elapsed.withLock { elapsed in
                let before = elapsed
                elapsed += step
                return periods.map { period in Int(elapsed / period) - Int(before / period) }
            }
        }
    }

    /// Starts everything, runs `body`, stops everything (the broker by PID, the simulators by port).
    public static func with<T: Sendable>(
        _ settings: Settings = Settings(), logger log: Logger = Logger(label: "accelerated"),
        _ body: @Sendable (AllSourcesRun) async throws -> T
    ) async throws -> T {
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        let simulators = Simulators(
            han: CozifyHANSimulator(configuration: .init(telegramInterval: .seconds(10), meterDelay: nil)),
            bms: TinyBMSSimulator(configuration: .init(autoTickDelay: nil)),
            csms: OCPPCSMSSimulator(configuration: .init(tickInterval: nil, startDate: start)),
            router: FritzNetworkSimulator(configuration: .init(seed: 3, timeMode: .manual, startDate: start)),
            portal: FlowerHubSimulator(configuration: .init(tickInterval: nil, timeMode: .manual, startDate: start)))
        // Data before the bridge's first read: a telegram, a frame, a tick; the portal six hours
        // into its day (this month's consumption above 0) with the battery connected.
        simulators.han.emitTelegramNow()
        _ = simulators.bms.tick()
        simulators.csms.tick()
        simulators.portal.forceStatus(.connected)
        simulators.portal.advance(by: .seconds(6 * 3600))
        let cadence = Cadence()
        let clock = SimulatedClock(
            wallClock: { simulators.router.now },
            onAdvance: { step in
                simulators.router.advance(by: step)
                simulators.portal.advance(by: step)
                let due = cadence.advance(by: step, periods: [.seconds(10), .seconds(1), .seconds(5)])
                for _ in 0..<due[0] { simulators.han.emitTelegramNow() }
                if due[1] > 0 { _ = simulators.bms.tick(due[1]) }
                if due[2] > 0 { simulators.csms.tick(times: due[2]) }
            })
        let logger = settings.trace.flatMap(Logger.Level.init(rawValue:)).map { level in Logger(label: "accelerated") { _ in SimulatedTimeLogHandler(clock: clock, level: level) } } ?? log
        do {
            var started: [Int] = []
            for simulator in simulators.all { started.append(try await simulator.start()) }
            let ports = started
            let result = try await MosquittoBroker.with { broker in
                try await MQTTProbe.with(broker) { probe in
                    try await probe.subscribe("api2mqtt/#")
                    try await probe.subscribe("homeassistant/#")
                    let account = simulators.portal.configuration.account
                    let yaml = """
                        mqtt:
                          url: \(broker.url)
                          client_id: bridge-accelerated
                        http:
                          enabled: false
                        publish:
                          republish_interval: 10s
                        sources:
                          - id: han
                            type: cozify_han
                            name: HAN reader
                            url: http://127.0.0.1:\(ports[0])
                            stream: sse
                            timeout: \(settings.timeout)
                          - id: bms
                            type: tinybms
                            name: Battery BMS
                            url: http://127.0.0.1:\(ports[1])
                            stream: websocket
                            timeout: \(settings.timeout)
                          - id: csms
                            type: ocpp_csms
                            name: CSMS
                            url: http://127.0.0.1:\(ports[2])
                            username: bridge@example.com
                            password: bridge-password
                            remote_start_id_tag: TAG001
                            timeout: \(settings.timeout)
                          - id: router
                            type: fritz_network
                            name: Router
                            url: http://127.0.0.1:\(ports[3])
                            api_key: \(FritzNetworkSimulator.demoAPIKey)
                            requests_per_minute: 10
                            timeout: \(settings.timeout)
                          - id: battery
                            type: flowerhub
                            name: Home battery
                            url: http://127.0.0.1:\(ports[4])
                            username: \(account.username)
                            password: \(account.password)
                            timeout: \(settings.timeout)
                        """
                    let made = Mutex<[String: ObservedAdapter]>([:])
                    let makeAdapter: InProcessBridge.AdapterFactory = { configuration, pool in
                        let inner: any SourceAdapter
                        switch configuration.type {
                        case .fritzNetwork:
                            inner = try FritzNetworkAdapter(configuration: configuration, pool: pool, logger: logger, clock: clock)
                        case .flowerhub:
                            inner = try FlowerHubAdapter(configuration: configuration, pool: pool, logger: logger, clock: clock)
                        case .cozifyHAN:
                            inner = try CozifyHANAdapter(configuration: configuration, pool: pool, logger: logger, clock: clock)
                        case .tinyBMS:
                            inner = try TinyBMSAdapter(configuration: configuration, pool: pool, logger: logger, clock: clock)
                        case .ocppCSMS:
                            inner = try OCPPCSMSAdapter(configuration: configuration, pool: pool, logger: logger, clock: clock)
                        }
                        let adapter = ObservedAdapter(inner)
                        made.withLock { $0[configuration.id] = adapter }
                        return adapter
                    }
                    return try await InProcessBridge.run(yaml: yaml, clock: clock, logger: logger, adapters: makeAdapter) { bridge in
                        let adapters = made.withLock { $0 }
                        var sources: [BridgeClockDriver.Source] = []
                        for source in bridge.configuration.sources {
                            guard let adapter = adapters[source.id] else { throw TestSupportError("the bridge made no adapter for \(source.id)") }
                            let connected: (@Sendable () -> Bool)? =
                                switch source.type {
                                case .cozifyHAN: { simulators.han.state.openStreams > 0 }
                                case .tinyBMS: { (simulators.bms.state.openSockets["/ws/telemetry"] ?? 0) > 0 }
                                case .ocppCSMS: { simulators.csms.state.openStreams > 0 }
                                default: nil
                                }
                            sources.append(
                                .init(
                                    adapter: adapter, readTimeout: source.timeout * 2 + adapter.maximumBudgetWait,
                                    streamConnected: connected))
                        }
                        let state = bridge.bridge.topics.state
                        let connection = bridge.connection
                        let driver = BridgeClockDriver(
                            clock: clock, sources: sources, drained: { probe.messages.count { $0.topic != state } >= connection.sent })
                        return try await body(
                            AllSourcesRun(
                                settings: settings, simulators: simulators, clock: clock, probe: probe, bridge: bridge, driver: driver))
                    }
                }
            }
            for simulator in simulators.all { await simulator.stop() }
            return result
        } catch {
            for simulator in simulators.all { await simulator.stop() }
            throw error
        }
    }

    /// Runs simulated time on, a step at a time (at most 1 s: the runners' tick), until `until`
    /// holds after a step or `limit` has passed. Returns whether `until` held.
    @discardableResult
    public func run(for limit: Duration, until: (AllSourcesRun) -> Bool = { _ in false }) async throws -> Bool {
        let end = clock.elapsed + limit
        try await driver.settle()
        collect()
        if until(self) { return true }
        while clock.elapsed < end {
            try await driver.step(limit: min(.seconds(1), end - clock.elapsed))
            try await driver.settle()
            collect()
            if until(self) { return true }
        }
        return false
    }

    /// Stamps the messages that arrived since the last step with now.
    private func collect() {
        let now = clock.elapsed
        let messages = probe.messages
        record.withLock { record in
            for message in messages.dropFirst(record.seen) { record.messages.append(Received(at: now, message: message)) }
            record.seen = messages.count
        }
    }

    /// Every message received so far, with the simulated time it arrived at.
    public var messages: [Received] { record.withLock { $0.messages } }

    // MARK: What MQTT says about a source

    /// The source's devices' availability now: `online` or `offline` when all of them (each
    /// `<device>/availability` seen so far) last said so, nil before any or while they disagree.
    public func availability(_ source: Source) -> String? {
        var last: [String: String] = [:]
        for item in messages where source.owns(item.message.topic) && item.message.topic.hasSuffix("/availability") {
            last[item.message.topic] = String(decoding: item.message.payload, as: UTF8.self)
        }
        let values = Set(last.values)
        return values.count == 1 ? values.first : nil
    }

    /// When the source's devices' availability last changed to `payload` (all of them), after `start`.
    /// - Returns: the simulated time of the first step after `start` at which every device of the
    ///   source had last said `payload`, or nil.
    public func firstAvailability(_ source: Source, _ payload: String, after start: Duration) -> Duration? {
        var last: [String: String] = [:]
        var found: Duration?
        for item in messages where source.owns(item.message.topic) && item.message.topic.hasSuffix("/availability") {
            last[item.message.topic] = String(decoding: item.message.payload, as: UTF8.self)
            if item.at >= start, found == nil, Set(last.values) == [payload] { found = item.at }
        }
        return found
    }

    /// Whether any device of the source said `payload` on its availability topic at or after `start`.
    public func saidAvailability(_ source: Source, _ payload: String, since start: Duration) -> Bool {
        messages.contains {
            $0.at >= start && source.owns($0.message.topic) && $0.message.topic.hasSuffix("/availability")
                && String(decoding: $0.message.payload, as: UTF8.self) == payload
        }
    }

    /// Whether a topic carries a device's values (not its availability, commands or results).
    static func isValue(_ topic: String) -> Bool {
        !topic.hasSuffix("/availability") && !topic.hasSuffix("/set") && !topic.hasSuffix("/result")
    }

    /// The simulated times of the source's value messages at or after `start`.
    public func values(_ source: Source, since start: Duration) -> [Duration] {
        messages.filter { $0.at >= start && source.owns($0.message.topic) && Self.isValue($0.message.topic) }.map(\.at)
    }
}
