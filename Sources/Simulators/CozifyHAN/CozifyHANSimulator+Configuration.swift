import Logging

extension CozifyHANSimulator {
    /// How a ``CozifyHANSimulator`` behaves; fixed for its lifetime (faults and quirks change at run time
    /// through ``CozifyHANSimulator/faults``).
    public struct Configuration: Sendable {
        /// Time between meter telegrams; the real meter sends one about every 10 s.
        public var telegramInterval: Duration
        /// When set, every request needs `Authorization: Bearer <token>`, else 401. Real readers need none.
        public var token: String?
        /// Time from each (re)start until the first telegram; until then `/meter` and `/meter/id` answer 503.
        /// `nil` sends no telegrams by itself: only ``CozifyHANSimulator/emitTelegramNow()`` does.
        public var meterDelay: Duration?
        /// Seed of the ``CozifyHANDataGenerator``; equal seeds give equal meter data.
        public var seed: UInt64
        /// Port to bind on 127.0.0.1; 0 picks a free one (kept across restarts).
        public var port: Int
        /// How long a Wi-Fi scan stays `SCAN_RUNNING`.
        public var scanDuration: Duration
        /// Quirks switched on from the start, e.g. ``CozifyHANSimulator/realFirmwareQuirks``.
        public var quirks: Set<Quirk>
        /// Who the reader and its meter say they are.
        public var identity: Identity
        /// Where the server logs; warnings only by default.
        public var logger: Logger

        /// Creates a configuration; the defaults behave like a real reader on an idle test port.
        public init(
            telegramInterval: Duration = .seconds(10),
            token: String? = nil,
            meterDelay: Duration? = .zero,
            seed: UInt64 = 1,
            port: Int = 0,
            scanDuration: Duration = .seconds(2),
            quirks: Set<Quirk> = [],
            identity: Identity = Identity(),
            logger: Logger = SimulatorServer.defaultLogger
        ) {
            self.telegramInterval = telegramInterval
            self.token = token
            self.meterDelay = meterDelay
            self.seed = seed
            self.port = port
            self.scanDuration = scanDuration
            self.quirks = quirks
            self.identity = identity
            self.logger = logger
        }
    }

    /// The identity fields of the reader (`/han`, `/health`) and of its meter (`/meter/id`).
    /// Defaults are the document's examples.
    public struct Identity: Hashable, Sendable {
        /// Reader UUID.
        public var uuid = "7f2f8c1e-2c6d-4a25-b2b1-6f6a27d5f5de"
        /// Reader hostname.
        public var name = "Cozify-HAN-123-456"
        /// Hardware model.
        public var model = "HAN"
        /// Reader serial number.
        public var serial = "HAN12345678"
        /// Firmware version.
        public var version = "1.0.1.0"
        /// Reader MAC address.
        public var mac = "AA:BB:CC:DD:EE:FF"
        /// Firmware channel.
        public var channel = "release"
        /// Meter manufacturer identifier.
        public var manufacturerId = "KFM"
        /// Meter device type.
        public var deviceType = "E"
        /// Meter serial number.
        public var meterId = "A123456789012345"
        /// Meter name.
        public var meterName = "AM550"

        /// Creates the document's example identity.
        public init() {}
    }
}
