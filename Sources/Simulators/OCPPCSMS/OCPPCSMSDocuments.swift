import BridgeCore
import Foundation

/// The API's JSON objects (ChargePoint, Connector, ChargeState, Transaction, User, …) as the
/// document defines them, rendered from the store with the quirks in ``OCPPCSMSStore/flags``.
extension OCPPCSMSStore {
    static func number(_ value: Int) -> JSONValue { .number(Double(value)) }

    static func time(_ date: Date) -> JSONValue { .string(date.formatted(.iso8601)) }

    /// A list, or `null` for an empty one under ``Quirk/nullLists``.
    func list(_ items: [JSONValue]) -> JSONValue {
        items.isEmpty && flags.nullLists ? .null : .array(items)
    }

    /// `fields` without numbers that are 0 under ``Quirk/omitZeroFields``.
    func trimmed(_ fields: [String: JSONValue]) -> JSONValue {
        guard flags.omitZeroFields else { return .object(fields) }
        return .object(fields.filter { $0.value != .number(0) })
    }

    // MARK: Charge points

    func connectorDocument(_ connector: OCPPCSMSConnector) -> JSONValue {
        .object([
            "connector_id": Self.number(connector.id),
            "connector_id_name": .string("\(connector.type) \(connector.id)"),
            "charge_point_id": .string(connector.chargePointID),
            "type": .string(connector.type),
            "status": .string(connector.status),
            "status_time": Self.time(connector.statusTime),
            "state": .string(connector.state),
            "info": .string(connector.info),
            "vendor_id": .string(""),
            "error_code": .string(connector.errorCode),
            "power": Self.number(connector.ratedPower),
            "current_transaction_id": Self.number(connector.transactionID ?? (flags.idleTransactionMinusOne ? -1 : 0)),
        ])
    }

    func chargePointDocument(_ point: OCPPCSMSChargePoint) -> JSONValue {
        .object([
            "charge_point_id": .string(point.id),
            "is_enabled": .bool(point.isEnabled),
            "title": .string(point.title),
            "description": .string(point.description),
            "model": .string(point.spec.model),
            "serial_number": .string(point.spec.serialNumber),
            "vendor": .string(point.spec.vendor),
            "firmware_version": .string(point.spec.firmwareVersion),
            "status": .string(point.status),
            "error_code": .string(point.errorCode),
            "info": .string(point.info),
            "event_time": Self.time(point.eventTime),
            "is_online": .bool(point.isOnline),
            "status_time": Self.time(point.statusTime),
            "address": .string(point.address),
            "access_type": .string(point.accessType),
            "access_level": .number(0),
            "location": .object(["latitude": .number(60.1699), "longitude": .number(24.9384)]),
            "connectors": list(point.connectors.map { connectorDocument($0) }),
        ])
    }

    /// `/chp` as bytes, rendered once per revision and set of quirks.
    mutating func chargePointsBytes() -> [UInt8] {
        let key = revision * 8 + flags.key
        if let cache = chargePointsCache, cache.key == key { return cache.bytes }
        let bytes = list(chargePoints.map { chargePointDocument($0) }).jsonBytes
        chargePointsCache = (key, bytes)
        return bytes
    }

    /// `/chp/{search}`: charge points whose id or title contains `search` (case-insensitive).
    func search(_ text: String) -> JSONValue {
        let needle = text.lowercased()
        return list(
            chargePoints.filter { $0.id.lowercased().contains(needle) || $0.title.lowercased().contains(needle) }.map { chargePointDocument($0) })
    }

    func locations() -> JSONValue {
        .array([
            .object([
                "id": .string("LOC001"),
                "roaming": .bool(false),
                "name": .string("Home site"),
                "address": .string("1 Charging Street"),
                "city": .string("Helsinki"),
                "postal_code": .string("00100"),
                "country": .string("FIN"),
                "coordinates": .object(["latitude": .number(60.1699), "longitude": .number(24.9384)]),
                "power_limit": .number(150_000),
                "default_power_limit": .number(50_000),
                "charge_points": list(chargePoints.map { chargePointDocument($0) }),
            ])
        ])
    }

    // MARK: Sessions

    var paymentPlan: JSONValue {
        .object([
            "plan_id": .string("standard"), "description": .string("Standard Plan"), "is_default": .bool(true),
            "is_active": .bool(true), "price_per_kwh": Self.number(configuration.pricePerKWh), "price_per_hour": .number(0),
            "start_time": .string("00:00"), "end_time": .string("23:59"),
        ])
    }

    func meterValueDocument(_ value: OCPPCSMSTransaction.MeterValue, transaction: OCPPCSMSTransaction) -> JSONValue {
        trimmed([
            "transaction_id": Self.number(transaction.id),
            "value": Self.number(value.value),
            "power_rate": Self.number(value.powerRate),
            "battery_level": Self.number(value.batteryLevel),
            "consumed_energy": Self.number(value.consumedEnergy),
            "price": Self.number(value.price),
            "time": Self.time(value.time),
            "timestamp": Self.number(Int(value.time.timeIntervalSince1970)),
            "minute": Self.number(value.minute),
            "unit": .string("Wh"),
            "measurand": .string("Energy.Active.Import.Register"),
            "connector_id": Self.number(transaction.connectorID),
            "connector_status": .string(value.connectorStatus),
        ])
    }

    /// A `ChargeState` (`/transactions/active`).
    func chargeStateDocument(_ transaction: OCPPCSMSTransaction) -> JSONValue {
        let point = chargePoint(transaction.chargePointID)
        let connector = point?.connectors.first { $0.id == transaction.connectorID }
        let status = connector?.status ?? "Charging"
        return .object([
            "transaction_id": Self.number(transaction.id),
            "connector_id": Self.number(transaction.connectorID),
            "connector": connector.map { connectorDocument($0) } ?? .object([:]),
            "charge_point_id": .string(transaction.chargePointID),
            "charge_point_title": .string(point?.title ?? ""),
            "charge_point_address": .string(point?.address ?? ""),
            "time_started": Self.time(transaction.timeStart),
            "meter_start": Self.number(transaction.meterStart),
            "duration": Self.number(Int(now.timeIntervalSince(transaction.timeStart))),
            "consumed": Self.number(transaction.consumed),
            "power_rate": Self.number(status == "Charging" ? transaction.power : 0),
            "price": Self.number(price(transaction)),
            "status": .string(status),
            "is_charging": .bool(status == "Charging"),
            "can_stop": .bool(true),
            "meter_values": list(transaction.meterValues.map { meterValueDocument($0, transaction: transaction) }),
            "id_tag": .string(transaction.idTag),
            "payment_plan": paymentPlan,
            "payment_method": .object([
                "identifier": .string("pm_123abc"), "card_brand": .string("visa"), "card_number": .string("****1234"),
            ]),
            "payment_orders": list([]),
        ])
    }

    /// A `Transaction` (`/transactions/list`, `/transactions/info/{id}`).
    func transactionDocument(_ transaction: OCPPCSMSTransaction) -> JSONValue {
        let owner = users.first { $0.idTags.contains(transaction.idTag) }
        return .object([
            "transaction_id": Self.number(transaction.id),
            "session_id": .string("sess_\(transaction.id)"),
            "is_finished": .bool(transaction.isFinished),
            "connector_id": Self.number(transaction.connectorID),
            "charge_point_id": .string(transaction.chargePointID),
            "id_tag": .string(transaction.idTag),
            "reservation_id": .null,
            "meter_start": Self.number(transaction.meterStart),
            "meter_stop": Self.number(transaction.isFinished ? transaction.meterNow : 0),
            "time_start": Self.time(transaction.timeStart),
            "time_stop": Self.time(transaction.timeStop ?? Date(timeIntervalSince1970: -62_135_596_800)),
            "reason": .string(transaction.reason),
            "id_tag_note": .string(""),
            "username": .string(owner?.username ?? ""),
            "payment_amount": Self.number(price(transaction)),
            "payment_billed": Self.number(transaction.isFinished ? price(transaction) : 0),
            "payment_order": .number(0),
            "payment_plan": paymentPlan,
            "tariff": .object(["tariff_id": .string("tariff_001"), "description": .string("Standard Tariff")]),
            "meter_values": list(transaction.meterValues.map { meterValueDocument($0, transaction: transaction) }),
            "payment_method": .object([:]),
            "payment_orders": list([]),
            "user_tag": .object([
                "username": .string(owner?.username ?? ""), "user_id": .string(owner.map { userID($0) } ?? ""),
                "id_tag": .string(transaction.idTag),
            ]),
            "protocol_version": .string("ocpp1.6"),
            "evse_id": Self.number(transaction.connectorID),
            "metadata": .object([:]),
        ])
    }

    // MARK: Accounts

    func userID(_ user: OCPPCSMSSimulator.User) -> String {
        "uid-" + user.username.prefix { $0 != "@" }
    }

    /// The `User` object; `token` only for the login answer.
    func userDocument(_ user: OCPPCSMSSimulator.User, token: String?) -> JSONValue {
        var fields: [String: JSONValue] = [
            "username": .string(user.username),
            "name": .string(user.name),
            "role": .string(user.role),
            "access_level": Self.number(user.accessLevel),
            "email": .string(user.username),
            "payment_plan": .string("standard"),
            "group": .string("default"),
            "user_id": .string(userID(user)),
            "date_registered": Self.time(startDate.addingTimeInterval(-86_400 * 30)),
            "last_seen": Self.time(now),
        ]
        if let token { fields["token"] = .string(token) }
        return .object(fields)
    }

    func userTagDocument(_ tag: String, owner: OCPPCSMSSimulator.User) -> JSONValue {
        .object([
            "username": .string(owner.username), "user_id": .string(userID(owner)), "id_tag": .string(tag),
            "source": .string("manual"), "is_enabled": .bool(true), "local": .bool(false), "note": .string(""),
            "date_registered": Self.time(startDate.addingTimeInterval(-86_400 * 30)), "last_seen": Self.time(now),
        ])
    }

    /// `UserInfo` (`/users/info/{name}`).
    func userInfoDocument(_ user: OCPPCSMSSimulator.User) -> JSONValue {
        guard case .object(var fields) = userDocument(user, token: nil) else { return .null }
        fields["payment_plan"] = nil
        fields["group"] = nil
        fields["user_id"] = nil
        fields["payment_plans"] = .array([paymentPlan])
        fields["user_tags"] = list(user.idTags.map { userTagDocument($0, owner: user) })
        fields["payment_methods"] = .array([
            .object([
                "description": .string("My Visa"), "identifier": .string("pm_123abc"), "card_number": .string("****1234"),
                "card_type": .string("credit"), "card_brand": .string("visa"), "card_country": .string("FI"),
                "expiry_date": .string("12/29"), "is_default": .bool(true),
            ])
        ])
        return .object(fields)
    }

    // MARK: WebSocket frames

    /// A WebSocket response frame: `status`, `stage`, `info` and the given fields.
    func frame(status: String, stage: String, info: String, fields: [String: JSONValue]) -> String {
        var all = fields
        all["status"] = .string(status)
        all["stage"] = .string(stage)
        all["info"] = .string(info)
        return trimmed(all).jsonString
    }

    /// A `ListenTransaction` meter value frame (`status: value`).
    func meterFrame(_ transaction: OCPPCSMSTransaction) -> StreamMessage {
        let connector = chargePoint(transaction.chargePointID)?.connectors.first { $0.id == transaction.connectorID }
        let status = connector?.status ?? "Charging"
        let minute = Int(now.timeIntervalSince(transaction.timeStart) / 60)
        let value = OCPPCSMSTransaction.MeterValue(
            value: transaction.meterNow, powerRate: transaction.power, batteryLevel: Int(transaction.stateOfCharge),
            consumedEnergy: transaction.consumed, price: price(transaction), time: now, minute: minute, connectorStatus: status)
        let text = frame(
            status: "value", stage: "info", info: "meter value",
            fields: [
                "id": Self.number(transaction.id),
                "progress": Self.number(Int(transaction.stateOfCharge)),
                "power": Self.number(transaction.consumed),
                "power_rate": Self.number(transaction.power),
                "soc": Self.number(Int(transaction.stateOfCharge)),
                "price": Self.number(price(transaction)),
                "minute": Self.number(minute),
                "connector_id": Self.number(transaction.connectorID),
                "connector_status": .string(status),
                "data": .string(""),
                "meter_value": meterValueDocument(value, transaction: transaction),
            ])
        return StreamMessage(event: "transaction:\(transaction.id)", data: text)
    }

    /// A `ListenChargePoints` event: `data` is the charge point's id.
    mutating func chargePointEvent(_ position: Int, _ event: String, connector: OCPPCSMSConnector?) {
        let point = chargePoints[position]
        var fields: [String: JSONValue] = ["data": .string(point.id)]
        var info = "\(point.id): \(event)"
        if let connector {
            fields["connector_id"] = Self.number(connector.id)
            fields["connector_status"] = .string(connector.status)
            info += " connector \(connector.id) \(connector.status)"
        } else {
            info += point.isOnline ? " online" : " offline"
        }
        outbox.append(StreamMessage(event: "charge-point", data: frame(status: "event", stage: "charge-point-event", info: info, fields: fields)))
    }
}
