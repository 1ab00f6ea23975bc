import Foundation
import Logging

extension OCPPCSMSSimulator {
    /// How an ``OCPPCSMSSimulator`` behaves; fixed for its lifetime (faults and quirks change at run
    /// time through ``OCPPCSMSSimulator/faults``, the charge points through the test hooks).
    public struct Configuration: Sendable {
        /// Port to bind on 127.0.0.1; 0 picks a free one (kept across restarts).
        public var port: Int
        /// Seed of the simulated cars, tokens and meter registers; equal seeds give equal data.
        public var seed: UInt64
        /// Time between two automatic ``OCPPCSMSSimulator/tick()``s (the real server pushes events
        /// and meter values about every 5 s); `nil` ticks only when a test calls `tick()`.
        public var tickInterval: Duration?
        /// Simulated time each tick advances: sessions draw energy for this long per tick.
        public var simulatedStep: Duration
        /// The simulated clock's start; `nil` is the time the simulator is created.
        public var startDate: Date?
        /// The charge points, in the order `/chp` lists them.
        public var chargePoints: [ChargePointSpec]
        /// The accounts that can log in.
        public var users: [User]
        /// How long `/csc` waits for a charger that does not answer before `status: error` (10 s on the real server).
        public var commandTimeout: Duration
        /// Ticks between an accepted `RemoteStartTransaction` and its transaction (the charger "tries").
        public var startDelayTicks: Int
        /// Ticks a charge point stays offline after an accepted `Reset` (`Soft`; `Hard` takes twice as long).
        public var resetTicks: Int
        /// Price of a kWh in cents (the payment plan's `price_per_kwh`).
        public var pricePerKWh: Int
        /// Quirks switched on from the start, e.g. ``OCPPCSMSSimulator/realServerQuirks``.
        public var quirks: Set<Quirk>
        /// Where the server logs; critical only by default.
        public var logger: Logger

        /// Creates a configuration; the defaults are three charge points (one offline), three
        /// accounts, a tick every 5 s (tests pass `tickInterval: nil` and call `tick()`).
        public init(
            port: Int = 0,
            seed: UInt64 = 1,
            tickInterval: Duration? = .seconds(5),
            simulatedStep: Duration = .seconds(5),
            startDate: Date? = nil,
            chargePoints: [ChargePointSpec] = ChargePointSpec.defaultSite,
            users: [User] = User.defaults,
            commandTimeout: Duration = .seconds(10),
            startDelayTicks: Int = 1,
            resetTicks: Int = 1,
            pricePerKWh: Int = 35,
            quirks: Set<Quirk> = [],
            logger: Logger = SimulatorServer.defaultLogger
        ) {
            self.port = port
            self.seed = seed
            self.tickInterval = tickInterval
            self.simulatedStep = simulatedStep
            self.startDate = startDate
            self.chargePoints = chargePoints
            self.users = users
            self.commandTimeout = commandTimeout
            self.startDelayTicks = max(0, startDelayTicks)
            self.resetTicks = max(1, resetTicks)
            self.pricePerKWh = pricePerKWh
            self.quirks = quirks
            self.logger = logger
        }
    }

    /// One charge point as the simulator starts it.
    public struct ChargePointSpec: Sendable, Hashable {
        /// `charge_point_id`.
        public var id: String
        /// `title`.
        public var title: String
        /// `vendor`.
        public var vendor: String
        /// `model`.
        public var model: String
        /// `serial_number`.
        public var serialNumber: String
        /// `firmware_version`.
        public var firmwareVersion: String
        /// The connectors' plug type (`type`), e.g. `Type2` or `CCS`.
        public var connectorType: String
        /// The connectors' rated power in W (`power`).
        public var ratedPower: Int
        /// How many connectors (ids 1…n).
        public var connectors: Int
        /// Whether it is connected to the CSMS at the start.
        public var isOnline: Bool

        /// Creates a spec.
        public init(
            id: String, title: String, vendor: String = "Alfen", model: String = "Eve Double Pro-line",
            serialNumber: String, firmwareVersion: String = "6.4.0", connectorType: String = "Type2",
            ratedPower: Int = 22_000, connectors: Int = 2, isOnline: Bool = true
        ) {
            self.id = id
            self.title = title
            self.vendor = vendor
            self.model = model
            self.serialNumber = serialNumber
            self.firmwareVersion = firmwareVersion
            self.connectorType = connectorType
            self.ratedPower = ratedPower
            self.connectors = connectors
            self.isOnline = isOnline
        }

        /// A small site: a 22 kW double AC point, a 50 kW DC point with one CCS connector, and an
        /// 11 kW double AC point that is offline.
        public static let defaultSite: [ChargePointSpec] = [
            ChargePointSpec(id: "CP001", title: "Garage left", serialNumber: "ALF-0001"),
            ChargePointSpec(
                id: "CP002", title: "DC fast charger", vendor: "ABB", model: "Terra 54", serialNumber: "ABB-5400-17",
                firmwareVersion: "1.8.2", connectorType: "CCS", ratedPower: 50_000, connectors: 1),
            ChargePointSpec(
                id: "CP003", title: "Visitor parking", vendor: "Zaptec", model: "Go", serialNumber: "ZAP-GO-3303",
                firmwareVersion: "2.3.1", ratedPower: 11_000, connectors: 2, isOnline: false),
        ]

        /// `count` identical 22 kW points `CP0001`… with `connectors` connectors each, all online
        /// (benchmarks).
        public static func fleet(count: Int, connectors: Int = 2) -> [ChargePointSpec] {
            (0..<max(0, count)).map { index in
                let number = String(index + 1).leftPadded(to: 4)
                return ChargePointSpec(id: "CP\(number)", title: "Charger \(index + 1)", serialNumber: "SN-\(number)", connectors: connectors)
            }
        }
    }

    /// An account of the CSMS.
    public struct User: Sendable, Hashable {
        /// `username` (an e-mail address).
        public var username: String
        /// The password `/users/authenticate` accepts.
        public var password: String
        /// `name`.
        public var name: String
        /// `role`: `admin`, `operator` or `user`.
        public var role: String
        /// `access_level` (0–10).
        public var accessLevel: Int
        /// The account's RFID id tags.
        public var idTags: [String]

        /// Creates an account.
        public init(username: String, password: String, name: String, role: String = "user", accessLevel: Int = 1, idTags: [String]) {
            self.username = username
            self.password = password
            self.name = name
            self.role = role
            self.accessLevel = accessLevel
            self.idTags = idTags
        }

        /// `bridge@example.com` (`bridge-password`, tag `TAG001`), `driver@example.com`
        /// (`driver-password`, tag `TAG002`) and `admin@example.com` (`admin-password`, role admin, tag `ADMIN01`).
        public static let defaults: [User] = [
            User(username: "bridge@example.com", password: "bridge-password", name: "Home Bridge", idTags: ["TAG001"]),
            User(username: "driver@example.com", password: "driver-password", name: "Dana Driver", idTags: ["TAG002"]),
            User(
                username: "admin@example.com", password: "admin-password", name: "Site Admin", role: "admin", accessLevel: 10,
                idTags: ["ADMIN01"]),
        ]
    }
}
