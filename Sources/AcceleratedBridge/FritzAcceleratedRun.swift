import Adapters
import BridgeCore
import Foundation
import Logging
import Mosquitto
import Simulators
import Synchronization
import TestSupport

/// The Fritz!Box network source through a real mosquitto on simulated time: the simulator (manual
/// time), the in-process bridge (``InProcessBridge``) with the real `FritzNetworkAdapter`, and a
/// subscriber on `api2mqtt/#` and `homeassistant/#`, all moved by one ``SimulatedClock``.
///
/// What a run records, each with the simulated time it happened at: every message the subscriber
/// received (``messages``) and every client coming or going in the simulator (``clientChanges``).
public final class FritzAcceleratedRun: Sendable {
    /// What to run.
    public struct Settings: Sendable {
        /// The router's clients.
        public var clients: [FritzNetworkClient] = FritzNetworkClient.defaultNetwork
        /// The most items the server puts in one page.
        public var maxPageSize = 1_000
        /// Seed of the network's comings and goings.
        public var seed: UInt64 = 3
        /// JWT form login (`username`/`password`); an API key otherwise.
        public var login = true
        /// The bridge's `requests_per_minute`.
        public var requestsPerMinute = 10
        /// The server's limit per identity and rolling minute.
        public var serverRateLimit = 10
        /// The bridge's `away_after`, in whole seconds.
        public var awayAfterSeconds = 300
        /// Lifetime of the server's JWTs.
        public var tokenLifetime: Duration = .seconds(30 * 60)

        public init() {}
    }

    /// A client coming (`online`) or going in the simulator.
    public struct ClientChange: Sendable, Hashable {
        /// Simulated time since the start.
        public var at: Duration
        /// The client's id (MAC, or IP without one).
        public var id: String
        public var online: Bool
    }

    /// A message the subscriber received, and the simulated time it arrived at.
    public struct Received: Sendable {
        public var at: Duration
        public var message: MQTTMessage
    }

    public let settings: Settings
    public let simulator: FritzNetworkSimulator
    public let clock: SimulatedClock
    public let probe: MQTTProbe
    public let bridge: InProcessBridge
    public let driver: ClockDriver
    private let record = Mutex<(messages: [Received], seen: Int, changes: [ClientChange], online: [String: Bool])>(([], 0, [], [:]))

    /// The topic of a client's tracker state: `api2mqtt/router_<id, topic-safe>`.
    public static func trackerTopic(_ clientID: String) -> String {
        "api2mqtt/router_" + clientID.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    init(settings: Settings, simulator: FritzNetworkSimulator, clock: SimulatedClock, probe: MQTTProbe, bridge: InProcessBridge, driver: ClockDriver) {
        self.settings = settings
        self.simulator = simulator
        self.clock = clock
        self.probe = probe
        self.bridge = bridge
        self.driver = driver
        let online = Dictionary(simulator.state.clients.map { ($0.id, $0.isOnline) }, uniquingKeysWith: { first, _ in first })
        record.withLock { $0.online = online }
    }

    /// Starts everything, runs `body`, stops everything (the broker and the simulator by PID/port).
    public static func with<T: Sendable>(
        _ settings: Settings, logger: Logger = Logger(label: "accelerated"),
        _ body: @Sendable (FritzAcceleratedRun) async throws -> T
    ) async throws -> T {
        let simulator = FritzNetworkSimulator(
            configuration: .init(
                seed: settings.seed, timeMode: .manual, startDate: Date(timeIntervalSince1970: 1_767_225_600),
                clients: settings.clients, tokenLifetime: settings.tokenLifetime, rateLimit: settings.serverRateLimit,
                maxPageSize: settings.maxPageSize))
        let port = try await simulator.start()
        let clock = SimulatedClock(wallClock: { simulator.now }, onAdvance: { simulator.advance(by: $0) })
        do {
            let result = try await MosquittoBroker.with { broker in
                try await MQTTProbe.with(broker) { probe in
                    try await probe.subscribe("api2mqtt/#")
                    try await probe.subscribe("homeassistant/#")
                    let credentials =
                        settings.login
                        ? "username: admin\n    password: fritz-secret" : "api_key: \(FritzNetworkSimulator.demoAPIKey)"
                    let yaml = """
                        mqtt:
                          url: \(broker.url)
                          client_id: bridge-accelerated
                        http:
                          enabled: false
                        sources:
                          - id: router
                            type: fritz_network
                            name: Router
                            url: http://127.0.0.1:\(port)
                            \(credentials)
                            requests_per_minute: \(settings.requestsPerMinute)
                            away_after: \(settings.awayAfterSeconds)s
                        """
                    let made = Mutex<ObservedAdapter?>(nil)
                    let makeAdapter: InProcessBridge.AdapterFactory = { configuration, pool in
                        let adapter = ObservedAdapter(
                            try FritzNetworkAdapter(configuration: configuration, pool: pool, logger: logger, clock: clock))
                        made.withLock { $0 = adapter }
                        return adapter
                    }
                    return try await InProcessBridge.run(yaml: yaml, clock: clock, logger: logger, adapters: makeAdapter) { bridge in
                        guard let adapter = made.withLock({ $0 }), let source = bridge.configuration.sources.first else {
                            throw TestSupportError("the bridge made no adapter")
                        }
                        let state = bridge.bridge.topics.state
                        let connection = bridge.connection
                        let driver = ClockDriver(
                            clock: clock, adapter: adapter, readTimeout: source.timeout * 2 + adapter.maximumBudgetWait,
                            drained: { probe.messages.count { $0.topic != state } >= connection.sent })
                        return try await body(
                            FritzAcceleratedRun(
                                settings: settings, simulator: simulator, clock: clock, probe: probe, bridge: bridge, driver: driver))
                    }
                }
            }
            await simulator.stop()
            return result
        } catch {
            await simulator.stop()
            throw error
        }
    }

    /// Runs simulated time on by `duration`, a step at a time (at most 1 s: the runner's tick).
    /// After each step, once the system is at rest, `observe` gets the simulated time; it may
    /// act on the simulator (expire tokens, move a client) before the next step.
    public func run(for duration: Duration, observe: (Duration) throws -> Void = { _ in }) async throws {
        let end = clock.elapsed + duration
        try await driver.settle()
        collect()
        while clock.elapsed < end {
            try await driver.step(limit: min(.seconds(1), end - clock.elapsed))
            try await driver.settle()
            collect()
            try observe(clock.elapsed)
        }
    }

    /// Stamps the messages that arrived and the client changes made since the last step with now.
    private func collect() {
        let now = clock.elapsed
        let messages = probe.messages
        let clients = simulator.state.clients
        record.withLock { record in
            for message in messages.dropFirst(record.seen) { record.messages.append(Received(at: now, message: message)) }
            record.seen = messages.count
            for client in clients where record.online[client.id] != client.isOnline {
                record.online[client.id] = client.isOnline
                record.changes.append(ClientChange(at: now, id: client.id, online: client.isOnline))
            }
        }
    }

    /// Every message received so far, with the simulated time it arrived at.
    public var messages: [Received] { record.withLock { $0.messages } }

    /// Every client change in the simulator so far, in order.
    public var clientChanges: [ClientChange] { record.withLock { $0.changes } }

    /// The presence in a tracker state message (`{"presence": "home"}`), if any.
    public static func presence(_ message: MQTTMessage) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any] else { return nil }
        return object["presence"] as? String
    }
}
