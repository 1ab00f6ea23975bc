import Logging

extension TinyBMSSimulator {
    /// How a ``TinyBMSSimulator`` behaves; fixed for its lifetime (faults and quirks change at run time
    /// through ``TinyBMSSimulator/faults``).
    public struct Configuration: Sendable {
        /// Simulated time per tick, and the telemetry period when ticking by itself (~1 s on the device);
        /// ``TinyBMSSimulator/setTelemetryInterval(_:)`` changes it at run time.
        public var tickInterval: Duration
        /// Time from each (re)start until the first automatic tick; `nil` never ticks by itself (tests
        /// call ``TinyBMSSimulator/tick(_:)``).
        public var autoTickDelay: Duration?
        /// Seed of the pack physics; equal seeds give equal data.
        public var seed: UInt64
        /// Port to bind on 127.0.0.1; 0 picks a free one (kept across restarts).
        public var port: Int
        /// When set, HTTP Basic auth is on: every `/api` and `/ws` request needs these credentials and
        /// state-changing calls an `X-CSRF-Token` from `GET /api/security/csrf`. Off on real gateways by default.
        public var credentials: Credentials?
        /// How long BMS data stays unavailable after `POST /api/system/restart` with target `bms`;
        /// `nil` until ``TinyBMSSimulator/finishRestart()``.
        public var bmsRestartDuration: Duration?
        /// How long the gateway stays down after a gateway restart; `nil` until ``TinyBMSSimulator/finishRestart()``.
        public var gatewayRebootDuration: Duration?
        /// The socket limit applied with ``Quirk/tinyBMSSocketLimit`` (the ESP32's 7).
        public var socketLimit: Int
        /// Quirks switched on from the start, e.g. ``TinyBMSSimulator/deployedFirmwareQuirks``.
        public var quirks: Set<Quirk>
        /// Unix time (ms) of the simulated clock's zero: alert and history timestamps count from here.
        public var epochMilliseconds: Int64
        /// Where the server logs; critical only by default.
        public var logger: Logger

        /// Creates a configuration; the defaults behave like the documented gateway ticking at 1 Hz.
        public init(
            tickInterval: Duration = .seconds(1),
            autoTickDelay: Duration? = .zero,
            seed: UInt64 = 1,
            port: Int = 0,
            credentials: Credentials? = nil,
            bmsRestartDuration: Duration? = .seconds(3),
            gatewayRebootDuration: Duration? = .seconds(5),
            socketLimit: Int = 7,
            quirks: Set<Quirk> = [],
            epochMilliseconds: Int64 = 1_765_000_000_000,
            logger: Logger = SimulatorServer.defaultLogger
        ) {
            self.tickInterval = tickInterval
            self.autoTickDelay = autoTickDelay
            self.seed = seed
            self.port = port
            self.credentials = credentials
            self.bmsRestartDuration = bmsRestartDuration
            self.gatewayRebootDuration = gatewayRebootDuration
            self.socketLimit = socketLimit
            self.quirks = quirks
            self.epochMilliseconds = epochMilliseconds
            self.logger = logger
        }
    }

    /// HTTP Basic credentials.
    public struct Credentials: Sendable, Hashable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }
}

/// The deployed-firmware behaviours of the TinyBMS gateway (`shared/apis/FIELD-NOTES.md`), switched
/// through ``FaultPlan/enable(_:)``.
extension Quirk {
    /// Telemetry as `{"battery": {...}}` with `type: "battery"` and SI fields (`pack_voltage_v`, …), except
    /// the first frame after connecting, which is unwrapped; `GET /api/status` answers the wrapped form too.
    public static let tinyBMSWrappedTelemetry = Quirk("tinybms.wrappedTelemetry")
    /// The JSON `{"type":"ping"}` gets no pong (protocol pings are still answered).
    public static let tinyBMSNoJSONPing = Quirk("tinybms.noJSONPing")
    /// Error bodies are plain text, not the document's JSON.
    public static let tinyBMSPlainTextErrors = Quirk("tinybms.plainTextErrors")
    /// At most ``TinyBMSSimulator/Configuration/socketLimit`` sockets (WebSockets plus the simulated
    /// browser tabs); a new one closes the least recently used WebSocket.
    public static let tinyBMSSocketLimit = Quirk("tinybms.socketLimit")
    /// The UART restart command to the BMS fails (`bms_status: "timeout"`): `target: bms` falls back to a
    /// gateway restart, answered 202 with `gateway_restart: true`.
    public static let tinyBMSRestartFallback = Quirk("tinybms.restartFallback")
}

extension TinyBMSSimulator {
    /// What deployed firmware does all the time (the `quirks` switch): wrapped SI telemetry, no JSON
    /// ping, plain-text errors and the 7-socket limit.
    public static let deployedFirmwareQuirks: Set<Quirk> = [
        .tinyBMSWrappedTelemetry, .tinyBMSNoJSONPing, .tinyBMSPlainTextErrors, .tinyBMSSocketLimit,
    ]
}
