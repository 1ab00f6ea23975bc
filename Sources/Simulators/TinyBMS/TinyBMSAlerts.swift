import BridgeCore

/// One alert of the gateway (`/api/alerts/*`, `/ws/alerts`).
public struct TinyBMSAlert: Sendable, Hashable {
    /// Status values of the document.
    public enum Status: Int, Sendable {
        case active = 0, acknowledged = 1, resolved = 2
    }

    public var alertId: Int
    /// 1 temperature high, 2 temperature low, 3 cell voltage high, 4 cell voltage low, 10 manual (test hook).
    public var type: Int
    /// 0 info, 1 warning, 2 critical.
    public var severity: Int
    public var status: Status
    public var message: String
    public var timestampMs: Int64
    public var ackTimestampMs: Int64?

    /// The document's alert object.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "alert_id": .number(Double(alertId)), "type": .number(Double(type)), "severity": .number(Double(severity)),
            "status": .number(Double(status.rawValue)), "message": .string(message), "timestamp_ms": .number(Double(timestampMs)),
        ]
        if let ackTimestampMs { object["ack_timestamp_ms"] = .number(Double(ackTimestampMs)) }
        return .object(object)
    }
}

/// The alert thresholds (`GET/POST /api/alerts/config`); defaults are the document's example.
public struct TinyBMSAlertConfig: Sendable, Hashable {
    public var enabled = true
    public var debounceSec = 60
    public var tempHighEnabled = true
    public var temperatureMaxC = 45.0
    public var tempLowEnabled = false
    public var temperatureMinC = 0.0
    public var cellVoltHighEnabled = true
    public var cellVoltageMaxMv = 3650
    public var cellVoltLowEnabled = true
    public var cellVoltageMinMv = 2800
    public var monitorTinybmsEvents = true
    public var monitorStatusChanges = true

    public init() {}

    var json: JSONValue {
        [
            "enabled": .bool(enabled), "debounce_sec": .number(Double(debounceSec)),
            "temp_high_enabled": .bool(tempHighEnabled), "temperature_max_c": .number(temperatureMaxC),
            "temp_low_enabled": .bool(tempLowEnabled), "temperature_min_c": .number(temperatureMinC),
            "cell_volt_high_enabled": .bool(cellVoltHighEnabled), "cell_voltage_max_mv": .number(Double(cellVoltageMaxMv)),
            "cell_volt_low_enabled": .bool(cellVoltLowEnabled), "cell_voltage_min_mv": .number(Double(cellVoltageMinMv)),
            "monitor_tinybms_events": .bool(monitorTinybmsEvents), "monitor_status_changes": .bool(monitorStatusChanges),
        ]
    }

    /// Applies the fields of a `POST /api/alerts/config` body; all or nothing.
    mutating func apply(_ body: JSONValue?) throws(TinyBMSRequestError) {
        guard let object = body?.objectValue else { throw .invalid("body must be a JSON object") }
        var next = self
        for (key, value) in object {
            switch key {
            case "enabled": next.enabled = try Self.bool(value, key)
            case "temp_high_enabled": next.tempHighEnabled = try Self.bool(value, key)
            case "temp_low_enabled": next.tempLowEnabled = try Self.bool(value, key)
            case "cell_volt_high_enabled": next.cellVoltHighEnabled = try Self.bool(value, key)
            case "cell_volt_low_enabled": next.cellVoltLowEnabled = try Self.bool(value, key)
            case "monitor_tinybms_events": next.monitorTinybmsEvents = try Self.bool(value, key)
            case "monitor_status_changes": next.monitorStatusChanges = try Self.bool(value, key)
            case "debounce_sec": next.debounceSec = Int(try Self.number(value, key, in: 0...3600, integral: true))
            case "temperature_max_c": next.temperatureMaxC = try Self.number(value, key, in: -40...100)
            case "temperature_min_c": next.temperatureMinC = try Self.number(value, key, in: -40...100)
            case "cell_voltage_max_mv": next.cellVoltageMaxMv = Int(try Self.number(value, key, in: 2000...4500, integral: true))
            case "cell_voltage_min_mv": next.cellVoltageMinMv = Int(try Self.number(value, key, in: 2000...4500, integral: true))
            default: throw .invalid("unknown field \(key)")
            }
        }
        guard next.temperatureMinC < next.temperatureMaxC else { throw .invalid("temperature_min_c must be below temperature_max_c") }
        guard next.cellVoltageMinMv < next.cellVoltageMaxMv else { throw .invalid("cell_voltage_min_mv must be below cell_voltage_max_mv") }
        self = next
    }

    private static func bool(_ value: JSONValue, _ key: String) throws(TinyBMSRequestError) -> Bool {
        guard let bool = value.boolValue else { throw .invalid("\(key) must be a boolean") }
        return bool
    }

    private static func number(
        _ value: JSONValue, _ key: String, in range: ClosedRange<Double>, integral: Bool = false
    ) throws(TinyBMSRequestError) -> Double {
        guard let number = value.numberValue, range.contains(number), !integral || number.rounded() == number else {
            throw .invalid("\(key) must be \(integral ? "an integer" : "a number") in \(JSONValue.format(range.lowerBound))...\(JSONValue.format(range.upperBound))")
        }
        return number
    }
}

/// A rejected request: its status, the document's error `code` and a message.
struct TinyBMSRequestError: Error, Sendable {
    var status: Int
    var code: String
    var message: String

    static func invalid(_ details: String) -> TinyBMSRequestError {
        TinyBMSRequestError(status: 400, code: "INVALID_CONFIG", message: details)
    }
}

/// The gateway's alert manager: thresholds with debounce, active alerts, history, statistics.
struct TinyBMSAlertBook: Sendable {
    static let historyCapacity = 500

    var config = TinyBMSAlertConfig()
    /// Every alert still remembered, oldest first (the history; active ones included).
    var alerts: [TinyBMSAlert] = []
    var nextId = 1
    /// Simulated seconds each condition (by alert type) has held without an alert yet.
    var held: [Int: Double] = [:]
    /// Alert types raised whose condition has not cleared since (no second alert meanwhile).
    var latched: Set<Int> = []
    var totalRaised = 0
    var bySeverity: [Int: Int] = [:]
    var acknowledgementTimes: [Int64] = []

    var active: [TinyBMSAlert] { alerts.filter { $0.status == .active } }

    /// Checks the thresholds after a tick of `dt` simulated seconds; returns the alerts raised now.
    mutating func evaluate(pack: TinyBMSPack, dt: Double, now: Int64) -> [TinyBMSAlert] {
        let maxMv = pack.maxCell * 1000, minMv = pack.minCell * 1000
        let maxIndex = pack.cellVoltages.firstIndex(of: pack.maxCell) ?? 0
        let minIndex = pack.cellVoltages.firstIndex(of: pack.minCell) ?? 0
        let t = pack.temperature
        let conditions: [(type: Int, severity: Int, active: Bool, message: String)] = [
            (1, 2, config.tempHighEnabled && t > config.temperatureMaxC,
             "Température élevée: \(Self.format(t))°C > \(JSONValue.format(config.temperatureMaxC))°C"),
            (2, 1, config.tempLowEnabled && t < config.temperatureMinC,
             "Température basse: \(Self.format(t))°C < \(JSONValue.format(config.temperatureMinC))°C"),
            (3, 2, config.cellVoltHighEnabled && maxMv > Double(config.cellVoltageMaxMv),
             "Tension cellule haute: Cell \(maxIndex + 1) = \(Int(maxMv.rounded())) mV > \(config.cellVoltageMaxMv) mV"),
            (4, 1, config.cellVoltLowEnabled && minMv < Double(config.cellVoltageMinMv),
             "Tension cellule basse: Cell \(minIndex + 1) = \(Int(minMv.rounded())) mV < \(config.cellVoltageMinMv) mV"),
        ]
        var raised: [TinyBMSAlert] = []
        for condition in conditions {
            guard config.enabled, condition.active else {
                held[condition.type] = nil
                if latched.remove(condition.type) != nil { resolve(type: condition.type) }
                continue
            }
            guard !latched.contains(condition.type) else { continue }
            let heldFor = (held[condition.type] ?? -dt) + dt
            held[condition.type] = heldFor
            if heldFor >= Double(config.debounceSec) {
                held[condition.type] = nil
                latched.insert(condition.type)
                raised.append(raise(type: condition.type, severity: condition.severity, message: condition.message, now: now))
            }
        }
        return raised
    }

    /// Adds an active alert (also the test hook for alerts no threshold raises).
    mutating func raise(type: Int, severity: Int, message: String, now: Int64) -> TinyBMSAlert {
        let alert = TinyBMSAlert(alertId: nextId, type: type, severity: severity, status: .active, message: message, timestampMs: now)
        nextId += 1
        totalRaised += 1
        bySeverity[severity, default: 0] += 1
        alerts.append(alert)
        if alerts.count > Self.historyCapacity { alerts.removeFirst(alerts.count - Self.historyCapacity) }
        return alert
    }

    /// The condition behind an active alert of `type` cleared: the alert leaves the active list.
    private mutating func resolve(type: Int) {
        for index in alerts.indices where alerts[index].type == type && alerts[index].status == .active {
            alerts[index].status = .resolved
        }
    }

    /// Acknowledges every active alert; returns how many.
    mutating func acknowledgeAll(now: Int64) -> Int {
        var count = 0
        for index in alerts.indices where alerts[index].status == .active {
            acknowledge(at: index, now: now)
            count += 1
        }
        return count
    }

    /// Acknowledges the active alert `id`; false when no active alert has that id.
    mutating func acknowledge(id: Int, now: Int64) -> Bool {
        guard let index = alerts.firstIndex(where: { $0.alertId == id && $0.status == .active }) else { return false }
        acknowledge(at: index, now: now)
        return true
    }

    private mutating func acknowledge(at index: Int, now: Int64) {
        alerts[index].status = .acknowledged
        alerts[index].ackTimestampMs = now
        acknowledgementTimes.append(now - alerts[index].timestampMs)
    }

    /// `DELETE /api/alerts/history`: forgets every alert that is not active; returns how many.
    mutating func clearHistory() -> Int {
        let before = alerts.count
        alerts.removeAll { $0.status != .active }
        return before - alerts.count
    }

    var statistics: JSONValue {
        let average = acknowledgementTimes.isEmpty ? 0 : acknowledgementTimes.reduce(0, +) / Int64(acknowledgementTimes.count)
        return [
            "total_alerts": .number(Double(totalRaised)), "active_alert_count": .number(Double(active.count)),
            "critical_count": .number(Double(bySeverity[2] ?? 0)), "warning_count": .number(Double(bySeverity[1] ?? 0)),
            "info_count": .number(Double(bySeverity[0] ?? 0)), "avg_acknowledgment_time_ms": .number(Double(average)),
        ]
    }

    private static func format(_ value: Double) -> String {
        JSONValue.format((value * 10).rounded() / 10)
    }
}
