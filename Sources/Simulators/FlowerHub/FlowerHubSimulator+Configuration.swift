import Foundation
import Logging

extension FlowerHubSimulator {
    /// How a ``FlowerHubSimulator`` behaves; fixed for its lifetime (faults and quirks change at run
    /// time through ``FlowerHubSimulator/faults``).
    public struct Configuration: Sendable {
        /// How the portal's time passes.
        public enum TimeMode: Hashable, Sendable {
            /// Physics and cookie lifetimes follow the simulated clock (ticked every ``tickInterval``,
            /// or by hand when it is `nil`); `Retry-After` windows pass in real time.
            case realTime
            /// Only ``FlowerHubSimulator/advance(by:)`` and ``FlowerHubSimulator/tick()`` move time:
            /// physics, cookie lifetimes and `Retry-After` windows alike; nothing ticks by itself
            /// (``tickInterval`` is only the step of ``FlowerHubSimulator/tick()``). For runs on a
            /// manual clock shared with the bridge (hours simulated in seconds).
            case manual
        }

        /// Port to bind on 127.0.0.1; 0 picks a free one (kept across restarts).
        public var port: Int
        /// Seed of the simulated battery system; equal seeds (and start dates) give equal data.
        public var seed: UInt64
        /// Real time between automatic ticks, each advancing the simulated clock by the same amount;
        /// `nil` ticks only when a test calls ``FlowerHubSimulator/tick()`` or ``FlowerHubSimulator/advance(by:)``.
        public var tickInterval: Duration?
        /// How time passes; see ``TimeMode``.
        public var timeMode: TimeMode
        /// The simulated clock's start; `nil` is the wall-clock time when the simulator is created.
        public var startDate: Date?
        /// The account that may log in, and the ids its documents carry.
        public var account: Account
        /// How long an `Authentication` cookie is valid (simulated time).
        public var accessTokenLifetime: Duration
        /// How long a `Refresh` cookie is valid (simulated time).
        public var refreshTokenLifetime: Duration
        /// Whether the cookies carry `Secure` (the real portal's do).
        public var secureCookies: Bool
        /// Under ``Quirk/periodicRateLimit``: every this many requests one is answered 429.
        public var rateLimitEvery: Int
        /// Under ``Quirk/periodicRateLimit`` and ``FlowerHubSimulator/rateLimit(for:)``: the `Retry-After` sent (whole seconds).
        public var rateLimitRetryAfter: Duration
        /// Quirks switched on from the start, e.g. ``FlowerHubSimulator/realPortalQuirks``.
        public var quirks: Set<Quirk>
        /// Where the server logs; critical only by default.
        public var logger: Logger

        /// Creates a configuration; the defaults behave like the documented portal, ticking once a minute.
        public init(
            port: Int = 0,
            seed: UInt64 = 1,
            tickInterval: Duration? = .seconds(60),
            timeMode: TimeMode = .realTime,
            startDate: Date? = nil,
            account: Account = Account(),
            accessTokenLifetime: Duration = .seconds(15 * 60),
            refreshTokenLifetime: Duration = .seconds(7 * 86_400),
            secureCookies: Bool = true,
            rateLimitEvery: Int = 25,
            rateLimitRetryAfter: Duration = .seconds(30),
            quirks: Set<Quirk> = [],
            logger: Logger = SimulatorServer.defaultLogger
        ) {
            self.port = port
            self.seed = seed
            self.tickInterval = tickInterval
            self.timeMode = timeMode
            self.startDate = startDate
            self.account = account
            self.accessTokenLifetime = accessTokenLifetime
            self.refreshTokenLifetime = refreshTokenLifetime
            self.secureCookies = secureCookies
            self.rateLimitEvery = max(1, rateLimitEvery)
            self.rateLimitRetryAfter = rateLimitRetryAfter
            self.quirks = quirks
            self.logger = logger
        }
    }

    /// The portal account: its credentials and the ids and names of its documents.
    public struct Account: Hashable, Sendable {
        /// The login's `username` (an e-mail address).
        public var username = "demo@flowerhub.example"
        /// The login's `password`.
        public var password = "flowerhub-demo-password"
        /// `user.id`.
        public var userId = 4711
        /// `user.assetOwnerId`.
        public var assetOwnerId = 1234
        /// The asset (battery system) id.
        public var assetId = 5678
        /// The site id of the agreements, invoices and consumption.
        public var siteId = 735_999
        /// The asset's serial number.
        public var serialNumber = "FH-2024-000123"
        /// Owner's first name.
        public var firstName = "Alva"
        /// Owner's last name.
        public var lastName = "Lindqvist"

        /// Creates the demo account.
        public init() {}
    }
}
