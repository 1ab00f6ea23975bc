import BridgeCore
import SourceKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Commands. Every one targets a charge point (and some a connector) by the child key
/// `{"charge_point_id": "CP001", "connector_id": 1}` (a plain string names a charge point), which
/// is checked against the last poll (and the `charge_points` allow-list) before any call:
/// an unknown charge point or connector is `unknown_device` and nothing is sent.
///
/// Actions (`perform(action:value:childKey:)`):
///
/// | action                 | needs       | call                                                       |
/// |------------------------|-------------|------------------------------------------------------------|
/// | `start_charging`       | connector   | /csc RemoteStartTransaction, payload `remote_start_id_tag` |
/// | `stop_charging`        | connector   | /csc RemoteStopTransaction, payload the connector's current transaction id (last poll); none → `invalid_value`, no call |
/// | `reset`                | charge point| /csc Reset, value `soft`/`hard` (any case) → `Soft`/`Hard` |
/// | `reset_soft`, `reset_hard` | charge point | /csc Reset `Soft` / `Hard` (buttons)                |
/// | `unlock_connector`     | connector   | /csc UnlockConnector (the CSMS refuses it for OCPP 1.6: `not_supported` with its message) |
/// | `set_enabled`          | charge point| POST /point/{id} `{"is_enabled": value}` (value: bool, `ON`/`OFF`, `true`/`false`) |
/// | `enable`, `disable`    | charge point| the same with true / false                                 |
/// | `change_availability`  | charge point (connector optional, 0 = all) | /csc ChangeAvailability, value `Operative`/`Inoperative` |
/// | `trigger_message`      | charge point| /csc TriggerMessage, value the message name               |
/// | `change_configuration` | charge point| /csc ChangeConfiguration, value `{"key": …, "value": …}`  |
///
/// A `/csc` answer is HTTP 200 whatever happened (FIELD-NOTES): `status: error` is a failure with
/// the CSMS's `error` text (`timeout` when the charger did not answer, `not_supported` when the
/// CSMS says so); `status: success` with an `info` status of `Rejected`, `NotSupported`,
/// `NotImplemented`, `UnlockFailed` or `Failed` is a `call_failed` failure naming that status.
/// An accepted `RemoteStartTransaction` only means the charger will try (the transaction
/// appears later). After every command both lists are read again at the next read.
extension OCPPCSMSAdapter {
    /// The charge point (and connector) a command is for.
    struct Target: Sendable, Hashable {
        var chargePoint: String
        var connector: Int?
    }

    /// `info` statuses that mean the charger did not do it.
    static let refusals: Set<String> = ["Rejected", "NotSupported", "NotImplemented", "UnlockFailed", "Failed"]

    public func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        switch action {
        case "start_charging":
            guard let idTag else {
                throw CommandFailure(.notSupported, "start_charging needs remote_start_id_tag in the source's configuration")
            }
            let target = try await resolve(childKey, needsConnector: true)
            return try await centralSystem("RemoteStartTransaction", target, payload: idTag)
        case "stop_charging":
            let target = try await resolve(childKey, needsConnector: true)
            guard let transaction = currentTransaction(target) else {
                throw CommandFailure(
                    .invalidValue, "no transaction on connector \(target.connector ?? 0) of \(target.chargePoint): nothing to stop")
            }
            return try await centralSystem("RemoteStopTransaction", target, payload: String(transaction))
        case "reset", "reset_soft", "reset_hard":
            let kind: String
            switch action == "reset" ? (value.stringValue ?? "").lowercased() : String(action.dropFirst("reset_".count)) {
            case "soft": kind = "Soft"
            case "hard": kind = "Hard"
            default: throw CommandFailure(.invalidValue, "reset takes soft or hard, not \(value.shortDescription)")
            }
            let target = try await resolve(childKey, needsConnector: false)
            return try await centralSystem("Reset", Target(chargePoint: target.chargePoint), payload: kind)
        case "unlock_connector":
            let target = try await resolve(childKey, needsConnector: true)
            return try await centralSystem("UnlockConnector", target, payload: nil)
        case "set_enabled", "enable", "disable":
            let enabled: Bool
            if action == "set_enabled" {
                guard let flag = Self.flag(value) else {
                    throw CommandFailure(.invalidValue, "set_enabled takes true/false or ON/OFF, not \(value.shortDescription)")
                }
                enabled = flag
            } else {
                enabled = action == "enable"
            }
            let target = try await resolve(childKey, needsConnector: false)
            return try await setEnabled(target.chargePoint, enabled)
        case "change_availability":
            guard let kind = value.stringValue, ["Operative", "Inoperative"].contains(kind) else {
                throw CommandFailure(.invalidValue, "change_availability takes Operative or Inoperative, not \(value.shortDescription)")
            }
            let target = try await resolve(childKey, needsConnector: false)
            return try await centralSystem("ChangeAvailability", Target(chargePoint: target.chargePoint, connector: target.connector ?? 0), payload: kind)
        case "trigger_message":
            guard let message = value.stringValue, !message.isEmpty else {
                throw CommandFailure(.invalidValue, "trigger_message takes a message name, not \(value.shortDescription)")
            }
            let target = try await resolve(childKey, needsConnector: false)
            return try await centralSystem("TriggerMessage", target, payload: message)
        case "change_configuration":
            guard let key = value["key"]?.stringValue, !key.isEmpty, let setting = value["value"] else {
                throw CommandFailure(.invalidValue, #"change_configuration takes {"key": ..., "value": ...}"#)
            }
            let target = try await resolve(childKey, needsConnector: false)
            let payload = JSONValue.object(["key": .string(key), "value": .string(setting.stringValue ?? setting.jsonString)]).jsonString
            return try await centralSystem("ChangeConfiguration", Target(chargePoint: target.chargePoint), payload: payload)
        default:
            throw CommandFailure(.notSupported, "action '\(action)' is not implemented for ocpp_csms")
        }
    }

    /// A call written in the mapping. Paths without `/api/` get the `/api/v1` prefix. A
    /// `charge_point_id` in the body (or the id of `/point/{id}`) must be a known, allowed charge
    /// point; `/csc` answers are checked like the actions' ones.
    public func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? {
        let path = call.path.hasPrefix("/api/") ? call.path : Self.prefix + (call.path.hasPrefix("/") ? call.path : "/" + call.path)
        var named = call.body?["charge_point_id"]?.stringValue
        if named == nil, path.hasPrefix(Self.prefix + "/point/") { named = Self.percentDecoded(path.dropFirst((Self.prefix + "/point/").count)) }
        if let named {
            let connector = call.body?["connector_id"]?.numberValue.map { Int($0) }
            _ = try await resolve(.object(["charge_point_id": .string(named)]), needsConnector: false)
            if let connector, connector > 0 {
                _ = try await resolve(.object(["charge_point_id": .string(named), "connector_id": .number(Double(connector))]), needsConnector: true)
            }
        }
        let method = SourceRequest.Method(rawValue: call.method.uppercased()) ?? .post
        let body = call.body.map { SourceRequestBody.json(bytes: $0.jsonBytes) }
        let response: SourceResponse
        do {
            response = try await commandClient.send(method, path, query: call.query.map { (name: $0.name, value: $0.value) }, body: body)
        } catch {
            throw Self.failure(error)
        }
        invalidateLists()
        if path == Self.prefix + "/csc" {
            try Self.checkCentralSystemAnswer(
                response.body, feature: call.body?["feature_name"]?.stringValue ?? "command", chargePoint: named ?? "the charge point")
        }
        return response.status
    }

    // MARK: Targets

    /// The charge point (and connector) named by `childKey`, checked against the last poll.
    func resolve(_ childKey: JSONValue?, needsConnector: Bool) async throws(CommandFailure) -> Target {
        let target: Target
        switch childKey {
        case .string(let point)?:
            target = Target(chargePoint: point)
        case .object(let fields)?:
            guard let point = fields["charge_point_id"]?.stringValue ?? fields["charge_point_id"]?.numberValue.map({ JSONValue.format($0) }) else {
                throw CommandFailure(.invalidValue, "the command's child key has no charge_point_id")
            }
            let connector = fields["connector_id"].flatMap { $0.numberValue ?? $0.stringValue.flatMap { Double($0) } }.map { Int($0) }
            target = Target(chargePoint: point, connector: connector)
        default:
            throw CommandFailure(.invalidValue, "the command needs a charge point (child key {\"charge_point_id\": …})")
        }
        if let allowList, !allowList.contains(target.chargePoint) {
            throw CommandFailure(.unknownDevice, "charge point \(target.chargePoint) is not in this source's charge_points")
        }
        let points: [JSONValue]
        if let last = chargePoints.last {
            points = last
        } else {
            do {
                points = try await readChargePoints()
            } catch {
                throw Self.failure(error)
            }
        }
        guard let point = points.first(where: { $0["charge_point_id"]?.stringValue == target.chargePoint }) else {
            throw CommandFailure(.unknownDevice, "unknown charge point \(target.chargePoint)")
        }
        if needsConnector {
            guard let connector = target.connector, connector > 0 else {
                throw CommandFailure(.invalidValue, "the command needs a connector_id for \(target.chargePoint)")
            }
            let known = (point["connectors"]?.arrayValue ?? []).contains { $0["connector_id"]?.numberValue == Double(connector) }
            guard known else { throw CommandFailure(.unknownDevice, "charge point \(target.chargePoint) has no connector \(connector)") }
        }
        return target
    }

    /// The connector's transaction id from the last poll: its `current_transaction_id` when
    /// positive (idle is 0 in the document, -1 on the real server), else its active session's.
    func currentTransaction(_ target: Target) -> Int? {
        let point = chargePoints.last?.first { $0["charge_point_id"]?.stringValue == target.chargePoint }
        let connector = point?["connectors"]?.arrayValue?.first { $0["connector_id"]?.numberValue == target.connector.map(Double.init) }
        if let id = connector?["current_transaction_id"]?.numberValue, id > 0 { return Int(id) }
        let session = sessions.last?.first {
            $0["charge_point_id"]?.stringValue == target.chargePoint && $0["connector_id"]?.numberValue == target.connector.map(Double.init)
        }
        if let id = session?["transaction_id"]?.numberValue, id > 0 { return Int(id) }
        return nil
    }

    // MARK: Calls

    /// `POST /api/v1/csc` and the check of its answer.
    func centralSystem(_ feature: String, _ target: Target, payload: String?) async throws(CommandFailure) -> Int? {
        var body: [String: JSONValue] = ["charge_point_id": .string(target.chargePoint), "feature_name": .string(feature)]
        if let connector = target.connector { body["connector_id"] = .number(Double(connector)) }
        if let payload { body["payload"] = .string(payload) }
        let response: SourceResponse
        do {
            response = try await commandClient.send(.post, Self.prefix + "/csc", body: .json(bytes: JSONValue.object(body).jsonBytes))
        } catch {
            throw Self.failure(error)
        }
        invalidateLists()
        try Self.checkCentralSystemAnswer(response.body, feature: feature, chargePoint: target.chargePoint)
        return response.status
    }

    /// `POST /api/v1/point/{id}` with `is_enabled`; the answer must show the new value.
    func setEnabled(_ point: String, _ enabled: Bool) async throws(CommandFailure) -> Int? {
        let body = JSONValue.object(["charge_point_id": .string(point), "is_enabled": .bool(enabled)])
        let escaped = Self.percentEncodedPathSegment(point)
        let response: SourceResponse
        do {
            response = try await commandClient.send(.post, Self.prefix + "/point/" + escaped, body: .json(bytes: body.jsonBytes))
        } catch {
            throw Self.failure(error)
        }
        invalidateLists()
        guard let answer = try? JSONValue.parse(response.body), answer["is_enabled"]?.boolValue == enabled else {
            throw CommandFailure(
                .callFailed, "the CSMS did not confirm is_enabled \(enabled) for \(point)", httpStatus: response.status)
        }
        return response.status
    }

    func invalidateLists() {
        chargePoints.invalidate()
        sessions.invalidate()
    }

    /// Turns a `/csc` answer (HTTP 200 whatever happened) into success or a failure with the CSMS's reason.
    static func checkCentralSystemAnswer(_ body: [UInt8], feature: String, chargePoint: String) throws(CommandFailure) {
        guard let answer = try? JSONValue.parse(body), let status = answer["status"]?.stringValue else {
            throw CommandFailure(.callFailed, "\(feature) on \(chargePoint): the CSMS's answer is not the documented JSON", httpStatus: 200)
        }
        let infoText = answer["info"]?.stringValue ?? ""
        let info = try? JSONValue.parse(Array(infoText.utf8))
        switch status {
        case "success":
            if let result = info?["status"]?.stringValue, refusals.contains(result) {
                throw CommandFailure(.callFailed, "\(chargePoint) answered \(feature) with \(result)", httpStatus: 200)
            }
        case "error":
            let reason = info?["error"]?.stringValue ?? info?["status"]?.stringValue ?? (infoText.isEmpty ? "no reason given" : infoText)
            let lowered = reason.lowercased()
            let code: CommandErrorCode =
                lowered.contains("not supported") ? .notSupported
                : (lowered.contains("timeout") || lowered.contains("did not answer")) ? .timeout : .callFailed
            throw CommandFailure(code, "\(feature) on \(chargePoint) failed: \(reason)", httpStatus: 200)
        default:
            throw CommandFailure(.callFailed, "\(feature) on \(chargePoint): unexpected status '\(status)'", httpStatus: 200)
        }
    }

    static func flag(_ value: JSONValue) -> Bool? {
        if let bool = value.boolValue { return bool }
        if let number = value.numberValue { return number != 0 }
        switch value.stringValue?.lowercased() {
        case "on", "true", "1", "enable", "enabled": return true
        case "off", "false", "0", "disable", "disabled": return false
        default: return nil
        }
    }

    static func failure(_ error: SourceError) -> CommandFailure {
        switch error {
        case .timeout: CommandFailure(.timeout, error.description, httpStatus: error.status)
        default: CommandFailure(.callFailed, error.description, httpStatus: error.status)
        }
    }
}

extension OCPPCSMSAdapter {
    /// `text` as one path segment: every byte but RFC 3986's unreserved and sub-delimiter
    /// characters, `:` and `@` becomes `%XX` (what `urlPathAllowed` without `/` kept).
    static func percentEncodedPathSegment(_ text: String) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@".utf8)
        var output = ""
        for byte in text.utf8 {
            if allowed.contains(byte) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0x0F, radix: 16, uppercase: true)
            }
        }
        return output
    }

    /// `text` with every `%XX` decoded; nil when a `%` is not followed by two hex digits or the
    /// result is not UTF-8 (as Foundation's `removingPercentEncoding`).
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var input = text.utf8[...]
        while let byte = input.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = input.popFirst().flatMap(Self.hexValue), let low = input.popFirst().flatMap(Self.hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
