import Foundation
import Logging

extension FritzNetworkSimulator {
    /// How a ``FritzNetworkSimulator`` behaves; fixed for its lifetime (faults, quirks and the network
    /// change at run time through ``FritzNetworkSimulator/faults`` and the test hooks).
    public struct Configuration: Sendable {
        /// How simulated time passes.
        public enum TimeMode: Hashable, Sendable {
            /// Only ``FritzNetworkSimulator/advance(by:)`` and ``FritzNetworkSimulator/tick()`` move it:
            /// for tests, which never sleep for data.
            case manual
            /// Follows the real clock, `scale` times as fast (demo: 1; accelerated runs: more).
            case realTime(scale: Double)
        }

        /// Port to bind on 127.0.0.1; 0 picks a free one (kept across restarts).
        public var port: Int
        /// Seed of the network's random events; equal seeds give equal data for equal time steps.
        public var seed: UInt64
        /// Simulated time per physics step (rates move, counters grow, mobile clients come and go).
        public var tickInterval: Duration
        /// How simulated time passes.
        public var timeMode: TimeMode
        /// Simulated wall-clock time at the start; `nil` takes the real time at creation.
        public var startDate: Date?
        /// The server refreshes its cache from the router after a random pause in this range.
        public var refreshInterval: ClosedRange<Duration>
        /// The clients of the network.
        public var clients: [FritzNetworkClient]
        /// Login for `POST /auth/login`.
        public var username: String
        /// Password for `POST /auth/login`.
        public var password: String
        /// API keys valid from the start (as if created earlier), each `ha_` + 32 characters.
        public var apiKeys: [String]
        /// Lifetime of a JWT from `POST /auth/login`.
        public var tokenLifetime: Duration
        /// Requests allowed per identity in any rolling minute of simulated time (429 beyond).
        public var rateLimit: Int
        /// The most items one page carries, whatever `limit` asks (the API's maximum is 1000).
        public var maxPageSize: Int
        /// Quirks switched on from the start, e.g. ``FritzNetworkSimulator/realServerQuirks``.
        public var quirks: Set<Quirk>
        /// Where the server logs; critical only by default.
        public var logger: Logger

        /// Creates a configuration; the defaults are a dozen clients on real time, 10 requests a minute.
        public init(
            port: Int = 0,
            seed: UInt64 = 1,
            tickInterval: Duration = .seconds(5),
            timeMode: TimeMode = .realTime(scale: 1),
            startDate: Date? = nil,
            refreshInterval: ClosedRange<Duration> = .seconds(15) ... .seconds(30),
            clients: [FritzNetworkClient] = FritzNetworkClient.defaultNetwork,
            username: String = "admin",
            password: String = "fritz-secret",
            apiKeys: [String] = [FritzNetworkSimulator.demoAPIKey],
            tokenLifetime: Duration = .seconds(30 * 60),
            rateLimit: Int = 10,
            maxPageSize: Int = 1_000,
            quirks: Set<Quirk> = [],
            logger: Logger = SimulatorServer.defaultLogger
        ) {
            self.port = port
            self.seed = seed
            self.tickInterval = tickInterval
            self.timeMode = timeMode
            self.startDate = startDate
            self.refreshInterval = refreshInterval
            self.clients = clients
            self.username = username
            self.password = password
            self.apiKeys = apiKeys
            self.tokenLifetime = tokenLifetime
            self.rateLimit = rateLimit
            self.maxPageSize = maxPageSize
            self.quirks = quirks
            self.logger = logger
        }
    }

    /// The API key every default configuration accepts (demo and tests).
    public static let demoAPIKey = "ha_demo0000000000000000000000000000"
}
