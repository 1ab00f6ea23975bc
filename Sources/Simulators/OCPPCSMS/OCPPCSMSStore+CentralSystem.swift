import BridgeCore
import Foundation

/// `POST /api/v1/csc`: OCPP 1.6 commands to a charge point, answered the way FIELD-NOTES says:
/// HTTP 200 with `status: success` (the charger answered; `info` holds its answer as a JSON
/// string, e.g. `{"status":"Accepted"}` or `{"status":"Rejected"}`) or `status: error` (the CSMS
/// could not deliver it; `info` holds `{"error": "..."}`).
extension OCPPCSMSStore {
    /// What `/csc` answers.
    enum CommandOutcome: Sendable, Equatable {
        /// The charger answered: `status: success` and its answer.
        case answered(JSONValue)
        /// The CSMS failed: `status: error` and why.
        case failed(String)
        /// The charger does not answer: the CSMS waits its command timeout, then fails.
        case noAnswer(chargePointID: String)

        static func status(_ status: String) -> CommandOutcome { .answered(.object(["status": .string(status)])) }
    }

    /// The features `/csc` knows.
    static let features: Set<String> = [
        "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector", "ChangeConfiguration",
        "GetConfiguration", "ChangeAvailability", "TriggerMessage",
    ]

    /// Runs one command. `rejects` and `fails` are the test hooks (``Quirk/rejectCommands``,
    /// ``Quirk/commandErrors``), consulted only once the command reached a connected charger.
    mutating func command(
        chargePointID: String?, connectorID: Int?, feature: String, payload: String?,
        rejects: () -> Bool, fails: () -> Bool
    ) -> CommandOutcome {
        guard !feature.isEmpty else { return .failed("feature_name is required") }
        guard Self.features.contains(feature) else { return .failed("unknown feature: \(feature)") }
        guard let chargePointID, !chargePointID.isEmpty else { return .failed("charge_point_id is required") }
        guard let position = index[chargePointID] else { return .failed("charge point not found: \(chargePointID)") }
        let point = chargePoints[position]
        if feature == "UnlockConnector" { return .failed("feature UnlockConnector is not supported for ocpp1.6") }
        guard point.isOnline else { return .failed("charge point \(chargePointID) is not connected") }
        if point.isUnresponsive { return .noAnswer(chargePointID: chargePointID) }
        if fails() { return .failed("charge point \(chargePointID): internal error sending \(feature)") }
        if rejects() { return .status("Rejected") }
        let payload = payload ?? ""
        addLog("info", "\(chargePointID): \(feature) requested")
        switch feature {
        case "RemoteStartTransaction": return remoteStart(position, connectorID: connectorID, idTag: payload)
        case "RemoteStopTransaction": return remoteStop(position, payload: payload)
        case "Reset":
            guard payload == "Soft" || payload == "Hard" else { return .failed("Reset payload must be Soft or Hard, not '\(payload)'") }
            reset(position, hard: payload == "Hard")
            return .status("Accepted")
        case "ChangeConfiguration": return changeConfiguration(position, payload: payload)
        case "GetConfiguration": return getConfiguration(position, payload: payload)
        case "ChangeAvailability": return changeAvailability(position, connectorID: connectorID, payload: payload)
        default: return triggerMessage(position, payload: payload)
        }
    }

    private mutating func remoteStart(_ position: Int, connectorID: Int?, idTag: String) -> CommandOutcome {
        guard !idTag.isEmpty else { return .failed("RemoteStartTransaction payload must be an id tag") }
        let point = chargePoints[position]
        let slot: Int?
        if let connectorID, connectorID > 0 {
            guard let found = point.connectors.firstIndex(where: { $0.id == connectorID }) else {
                return .failed("connector \(connectorID) not found on \(point.id)")
            }
            slot = found
        } else {
            slot = point.connectors.firstIndex { $0.status == "Available" && !$0.isInoperative }
        }
        guard point.isEnabled, users.contains(where: { $0.idTags.contains(idTag) }), let slot else { return .status("Rejected") }
        var connector = point.connectors[slot]
        guard ["Available", "Preparing"].contains(connector.status), connector.transactionID == nil, connector.pendingStart == nil,
            !connector.isInoperative
        else { return .status("Rejected") }
        if configuration.startDelayTicks == 0 {
            begin(position, slot, idTag: idTag, stateOfCharge: nil)
        } else {
            connector.pendingStart = .init(idTag: idTag, ticksLeft: configuration.startDelayTicks)
            setStatus(&connector, "Preparing", point: position)
            chargePoints[position].connectors[slot] = connector
            revision += 1
        }
        return .status("Accepted")
    }

    private mutating func remoteStop(_ position: Int, payload: String) -> CommandOutcome {
        guard let id = Int(payload.trimmingCharacters(in: .whitespaces)) else {
            return .failed("RemoteStopTransaction payload must be a transaction id, not '\(payload)'")
        }
        guard let transaction = transactions[id], !transaction.isFinished, transaction.chargePointID == chargePoints[position].id else {
            return .status("Rejected")
        }
        finish(id, reason: "Remote")
        return .status("Accepted")
    }

    private mutating func changeConfiguration(_ position: Int, payload: String) -> CommandOutcome {
        guard let body = try? JSONValue(parsing: payload), let key = body["key"]?.stringValue else {
            return .failed(#"ChangeConfiguration payload must be JSON {"key": ..., "value": ...}"#)
        }
        let value = body["value"].map { $0.stringValue ?? $0.jsonString } ?? ""
        guard let current = chargePoints[position].configuration[key] else { return .status("NotSupported") }
        guard !current.readonly else { return .status("Rejected") }
        chargePoints[position].configuration[key]?.value = value
        return .status("Accepted")
    }

    private func getConfiguration(_ position: Int, payload: String) -> CommandOutcome {
        let configuration = chargePoints[position].configuration
        var wanted: [String] = configuration.keys.sorted()
        var unknown: [String] = []
        if !payload.isEmpty {
            let asked = (try? JSONValue(parsing: payload))?.arrayValue?.compactMap(\.stringValue) ?? [payload]
            wanted = asked.filter { configuration[$0] != nil }
            unknown = asked.filter { configuration[$0] == nil }
        }
        let keys: [JSONValue] = wanted.compactMap { key in
            configuration[key].map { .object(["key": .string(key), "readonly": .bool($0.readonly), "value": .string($0.value)]) }
        }
        return .answered(.object(["configurationKey": .array(keys), "unknownKey": .array(unknown.map { .string($0) })]))
    }

    private mutating func changeAvailability(_ position: Int, connectorID: Int?, payload: String) -> CommandOutcome {
        guard payload == "Operative" || payload == "Inoperative" else {
            return .failed("ChangeAvailability payload must be Operative or Inoperative, not '\(payload)'")
        }
        let inoperative = payload == "Inoperative"
        let slots: [Int]
        if let connectorID, connectorID > 0 {
            guard let slot = chargePoints[position].connectors.firstIndex(where: { $0.id == connectorID }) else {
                return .failed("connector \(connectorID) not found on \(chargePoints[position].id)")
            }
            slots = [slot]
        } else {
            slots = Array(chargePoints[position].connectors.indices)
        }
        var scheduled = false
        for slot in slots {
            var connector = chargePoints[position].connectors[slot]
            connector.isInoperative = inoperative
            if connector.transactionID != nil || connector.pendingStart != nil || connector.finishingTicksLeft > 0 {
                scheduled = true
            } else {
                setStatus(&connector, inoperative ? "Unavailable" : "Available", point: position)
            }
            chargePoints[position].connectors[slot] = connector
        }
        revision += 1
        return .status(scheduled ? "Scheduled" : "Accepted")
    }

    private mutating func triggerMessage(_ position: Int, payload: String) -> CommandOutcome {
        switch payload {
        case "StatusNotification":
            for connector in chargePoints[position].connectors { chargePointEvent(position, "StatusNotification", connector: connector) }
        case "BootNotification", "Heartbeat":
            chargePointEvent(position, payload, connector: nil)
        case "MeterValues":
            for transaction in activeTransactions() where transaction.chargePointID == chargePoints[position].id {
                outbox.append(meterFrame(transaction))
            }
        case "DiagnosticsStatusNotification", "FirmwareStatusNotification":
            break
        default:
            return .status("NotImplemented")
        }
        return .status("Accepted")
    }
}
