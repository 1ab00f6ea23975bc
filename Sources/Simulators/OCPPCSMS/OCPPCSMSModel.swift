import Foundation

/// One charge point as an ``OCPPCSMSSimulator`` holds it (a snapshot in ``OCPPCSMSState``).
public struct OCPPCSMSChargePoint: Sendable, Hashable {
    /// The identity the simulator started it with.
    public var spec: OCPPCSMSSimulator.ChargePointSpec
    /// `charge_point_id`.
    public var id: String { spec.id }
    /// `is_enabled` (changed through `POST /point/{id}`).
    public var isEnabled = true
    /// `title` (changed through `POST /point/{id}`).
    public var title: String
    /// `description`.
    public var description = ""
    /// `address`.
    public var address = "1 Charging Street"
    /// `access_type`.
    public var accessType = "private"
    /// `is_online`: connected to the CSMS.
    public var isOnline: Bool
    /// `status` (the OCPP status of connector 0).
    public var status = "Available"
    /// `error_code`.
    public var errorCode = "NoError"
    /// `info`.
    public var info = ""
    /// Simulated time of the last event (`event_time`) and of the last status change (`status_time`).
    public var eventTime: Date
    public var statusTime: Date
    /// The connectors, ids 1…n.
    public var connectors: [OCPPCSMSConnector]
    /// Does not answer `/csc` commands (they time out after the configured command timeout).
    public var isUnresponsive = false
    /// Ticks until a reset charge point is back online; 0 when not rebooting.
    public var rebootTicksLeft = 0
    /// The OCPP configuration keys (`GetConfiguration` / `ChangeConfiguration`): value and read-only flag.
    public var configuration: [String: ConfigurationKey]

    /// One OCPP configuration key's value and whether it is read-only.
    public struct ConfigurationKey: Sendable, Hashable {
        public var value: String
        public var readonly: Bool
    }

    init(spec: OCPPCSMSSimulator.ChargePointSpec, now: Date, energy: (Int) -> Int) {
        self.spec = spec
        self.title = spec.title
        self.isOnline = spec.isOnline
        self.eventTime = now
        self.statusTime = now
        self.connectors = (1...max(1, spec.connectors)).map { id in
            OCPPCSMSConnector(
                id: id, chargePointID: spec.id, type: spec.connectorType, ratedPower: spec.ratedPower,
                statusTime: now, energyRegister: energy(id))
        }
        self.configuration = [
            "HeartbeatInterval": ConfigurationKey(value: "300", readonly: false),
            "MeterValueSampleInterval": ConfigurationKey(value: "60", readonly: false),
            "ConnectionTimeOut": ConfigurationKey(value: "90", readonly: false),
            "AuthorizeRemoteTxRequests": ConfigurationKey(value: "true", readonly: false),
            "NumberOfConnectors": ConfigurationKey(value: String(max(1, spec.connectors)), readonly: true),
            "ChargePointVendor": ConfigurationKey(value: spec.vendor, readonly: true),
        ]
    }
}

/// One connector of a charge point.
public struct OCPPCSMSConnector: Sendable, Hashable {
    /// `connector_id`, from 1.
    public var id: Int
    /// `charge_point_id`.
    public var chargePointID: String
    /// `type`.
    public var type: String
    /// `power`: the rated maximum in W (FIELD-NOTES: not the live power).
    public var ratedPower: Int
    /// `status`: one of the nine OCPP 1.6 values.
    public var status = "Available"
    /// `status_time`.
    public var statusTime: Date
    /// `error_code`.
    public var errorCode = "NoError"
    /// `info`.
    public var info = ""
    /// The active transaction, if any (`current_transaction_id`).
    public var transactionID: Int?
    /// The energy register in Wh (`meter_start` + `consumed` while a session runs); never goes backwards.
    public var energyRegister: Int
    /// Set to inoperative through `ChangeAvailability` (status `Unavailable` once idle).
    public var isInoperative = false
    /// An accepted remote start waiting for its transaction: the id tag and the ticks left.
    public var pendingStart: PendingStart?
    /// Ticks left in `Finishing` after a transaction ended.
    public var finishingTicksLeft = 0

    /// A remote start the charger is still "trying".
    public struct PendingStart: Sendable, Hashable {
        public var idTag: String
        public var ticksLeft: Int
    }

    /// The `state` field: the status in lower case.
    public var state: String { status.lowercased() }
}

/// A charging session (a `Transaction`, and while active a `ChargeState`).
public struct OCPPCSMSTransaction: Sendable, Hashable {
    /// `transaction_id`.
    public var id: Int
    /// `charge_point_id`.
    public var chargePointID: String
    /// `connector_id`.
    public var connectorID: Int
    /// `id_tag`.
    public var idTag: String
    /// `meter_start`, Wh.
    public var meterStart: Int
    /// Energy so far, Wh (unrounded).
    public var consumedEnergy: Double
    /// Live power, W (0 unless charging).
    public var power: Int
    /// The car's state of charge, %.
    public var stateOfCharge: Double
    /// The car's battery, Wh.
    public var batteryCapacity: Double
    /// The most the car draws, W.
    public var carMaximumPower: Double
    /// `time_start`.
    public var timeStart: Date
    /// `time_stop`, once finished.
    public var timeStop: Date?
    /// `reason` once finished (`Remote`, `EVDisconnected`, `SoftReset`, …).
    public var reason = ""
    /// Ticks the car has been full (it unplugs after a few).
    public var fullTicks = 0
    /// The meter values, one per simulated minute (the last 60).
    public var meterValues: [MeterValue] = []

    /// One `TransactionMeter` reading.
    public struct MeterValue: Sendable, Hashable {
        public var value: Int
        public var powerRate: Int
        public var batteryLevel: Int
        public var consumedEnergy: Int
        public var price: Int
        public var time: Date
        public var minute: Int
        public var connectorStatus: String
    }

    /// Whether the session ended.
    public var isFinished: Bool { timeStop != nil }
    /// `consumed`, whole Wh.
    public var consumed: Int { Int(consumedEnergy.rounded(.down)) }
    /// `meter_stop` (the register now, while active).
    public var meterNow: Int { meterStart + consumed }
}

/// What an ``OCPPCSMSSimulator`` holds right now, for tests to compare with what a bridge published.
public struct OCPPCSMSState: Sendable {
    /// The charge points in `/chp` order.
    public var chargePoints: [OCPPCSMSChargePoint]
    /// Every transaction, oldest first (finished ones: the last 1000).
    public var transactions: [OCPPCSMSTransaction]
    /// The simulated time now.
    public var now: Date
    /// How many ticks ran.
    public var ticks: Int
    /// Open WebSocket connections.
    public var openStreams: Int

    /// The charge point with `id`.
    public func chargePoint(_ id: String) -> OCPPCSMSChargePoint? {
        chargePoints.first { $0.id == id }
    }

    /// The connector `connector` of charge point `id`.
    public func connector(_ id: String, _ connector: Int) -> OCPPCSMSConnector? {
        chargePoint(id)?.connectors.first { $0.id == connector }
    }

    /// The active transactions.
    public var activeTransactions: [OCPPCSMSTransaction] {
        transactions.filter { !$0.isFinished }
    }

    /// The transaction with `id`.
    public func transaction(_ id: Int) -> OCPPCSMSTransaction? {
        transactions.first { $0.id == id }
    }
}
