import BridgeCore
import Logging
import SourceKit
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Commands of the TinyBMS gateway: mapping calls (`execute`) and named actions (`perform`), with the
/// CSRF token for state-changing calls when auth is on, validation before anything is sent, and a
/// re-read of what an acknowledgement or threshold change altered.
extension TinyBMSAdapter {
    public func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? {
        let method = SourceRequest.Method(rawValue: call.method.uppercased()) ?? .post
        if method == .post, call.path == "/api/system/restart" {
            let target = call.body?["target"]?.stringValue ?? "bms"
            return try await restart(target: target, delayMs: call.body?["delay_ms"]?.numberValue)
        }
        if method == .post, call.path == "/api/alerts/config" {
            guard let body = call.body else { throw CommandFailure(.invalidValue, "alert configuration: a JSON body is required") }
            try validateAlertConfig(body)
        }
        if method == .get {
            do {
                return try await client.get(call.path, query: call.query.map { (name: $0.name, value: $0.value) }, priority: .command).status
            } catch {
                throw Self.failure(error, action: "GET \(call.path)")
            }
        }
        let body = call.body.map { SourceRequestBody.json(bytes: $0.jsonBytes) }
        let response = try await stateChanging(method, call.path, query: call.query.map { (name: $0.name, value: $0.value) }, body: body)
        await afterCommand(path: call.path)
        return response.status
    }

    public func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        switch action {
        case "acknowledge_alert":
            let id = try Self.alertID(value)
            let response: SourceResponse
            do throws(CommandFailure) {
                response = try await stateChanging(.post, "/api/alerts/acknowledge/\(id)", action: "acknowledge alert \(id)")
            } catch where error.httpStatus == 404 {
                throw CommandFailure(.callFailed, "acknowledge alert \(id): no active alert with this id", httpStatus: 404)
            }
            await afterCommand(path: "/api/alerts/acknowledge")
            return response.status
        case "acknowledge_all_alerts":
            let response = try await stateChanging(.post, "/api/alerts/acknowledge", action: "acknowledge all alerts")
            await afterCommand(path: "/api/alerts/acknowledge")
            return response.status
        case "clear_alert_history":
            let response = try await stateChanging(.delete, "/api/alerts/history", action: "clear alert history")
            await afterCommand(path: "/api/alerts/history")
            return response.status
        case "restart_bms":
            return try await restart(target: "bms", delayMs: nil)
        case "restart_gateway":
            return try await restart(target: "gateway", delayMs: nil)
        case "set_alert_config":
            let body: JSONValue
            if value.objectValue != nil {
                body = value
            } else if let field = childKey?.stringValue {
                body = .object([field: value])
            } else {
                throw CommandFailure(.invalidValue, "set_alert_config needs an object of fields, or the field name as child key")
            }
            try validateAlertConfig(body)
            let response = try await stateChanging(
                .post, "/api/alerts/config", body: .json(bytes: body.jsonBytes), action: "set alert configuration")
            await afterCommand(path: "/api/alerts/config")
            return response.status
        default:
            throw CommandFailure(.notSupported, "action '\(action)' is not implemented for tinybms")
        }
    }

    /// `POST /api/system/restart`. Refused while an accepted gateway restart has not visibly ended; a
    /// gateway that does not answer is a `call_failed` result (bounded by the source timeout), never a hang.
    func restart(target: String, delayMs: Double?) async throws(CommandFailure) -> Int? {
        guard ["bms", "gateway"].contains(target) else {
            throw CommandFailure(.invalidValue, "restart target must be \"bms\" or \"gateway\", not \"\(target)\"")
        }
        guard !gatewayRestarting else {
            throw CommandFailure(.sourceUnavailable, "the gateway is restarting; try again once it is back")
        }
        var body: [String: JSONValue] = ["target": .string(target)]
        if let delayMs { body["delay_ms"] = .number(delayMs) }
        let response = try await stateChanging(
            .post, "/api/system/restart", body: .json(bytes: JSONValue.object(body).jsonBytes), action: "restart \(target)")
        let answer = try? JSONValue.parse(response.body)
        if answer?["gateway_restart"]?.boolValue == true || response.status == 202 {
            live.withLock { live in
                live.restartMark = .now
                live.outageSinceRestart = false
            }
            if target == "bms" {
                logger.notice("TinyBMS did not answer the restart; the gateway restarts instead")
            }
        }
        return response.status
    }

    /// Re-reads what a command changed and delivers it on the running stream (the supervisor's refresh
    /// covers the polling mode).
    func afterCommand(path: String) async {
        let endpoint: String
        if path.hasPrefix("/api/alerts/acknowledge") || path == "/api/alerts/history" {
            endpoint = "alerts"
        } else if path == "/api/alerts/config" {
            endpoint = "alert_config"
        } else {
            return
        }
        do {
            if let document = try await read(endpoint: endpoint) {
                inject(SourceDocument(endpoint: endpoint, document: document, confirmsStream: false))
            }
        } catch {
            logger.debug("TinyBMS re-read after a command failed", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
        }
    }

    /// A state-changing call, with the CSRF token when auth is on (fetched once, renewed after a 403).
    func stateChanging(
        _ method: SourceRequest.Method, _ path: String, query: [(name: String, value: String)] = [], body: SourceRequestBody? = nil,
        action: String? = nil
    ) async throws(CommandFailure) -> SourceResponse {
        let action = action ?? "\(method.rawValue) \(path)"
        var attempt = 0
        while true {
            attempt += 1
            do throws(SourceError) {
                var headers: [(name: String, value: String)] = []
                if usesCSRF { headers.append((name: "X-CSRF-Token", value: try await csrfToken(renew: attempt > 1))) }
                return try await client.send(method, path, query: query, body: body, headers: headers)
            } catch {
                if case .forbidden = error, usesCSRF, attempt == 1 { continue }
                noteOutageIfUnreachable(error)
                throw Self.failure(error, action: action)
            }
        }
    }

    func noteOutageIfUnreachable(_ error: SourceError) {
        switch error {
        case .connection, .timeout: noteOutage()
        default: break
        }
    }

    func csrfToken(renew: Bool) async throws(SourceError) -> String {
        if !renew, let token = live.withLock({ $0.csrfToken }) { return token }
        let response = try await client.get("/api/security/csrf", priority: .command)
        let document = try? JSONValue.parse(response.body)
        guard let token = document?["token"]?.stringValue ?? document?["csrf_token"]?.stringValue, !token.isEmpty else {
            throw SourceError.malformedResponse("/api/security/csrf has no token")
        }
        live.withLock { $0.csrfToken = token }
        return token
    }

    static func alertID(_ value: JSONValue) throws(CommandFailure) -> Int {
        let number = value.numberValue ?? value.stringValue.flatMap { Double($0.trimmingWhitespace()) }
        guard let number, number.rounded() == number, number >= 1, number <= 1e9 else {
            throw CommandFailure(.invalidValue, "alert id must be a positive integer, not \(value.shortDescription)")
        }
        return Int(number)
    }

    /// The fields `POST /api/alerts/config` accepts, and their ranges; min < max against the last known config.
    func validateAlertConfig(_ body: JSONValue) throws(CommandFailure) {
        guard let fields = body.objectValue, !fields.isEmpty else {
            throw CommandFailure(.invalidValue, "alert configuration must be a non-empty object")
        }
        let booleans: Set<String> = [
            "enabled", "temp_high_enabled", "temp_low_enabled", "cell_volt_high_enabled", "cell_volt_low_enabled",
            "monitor_tinybms_events", "monitor_status_changes",
        ]
        let numbers: [String: (range: ClosedRange<Double>, integral: Bool)] = [
            "debounce_sec": (0...3600, true), "temperature_max_c": (-40...100, false), "temperature_min_c": (-40...100, false),
            "cell_voltage_max_mv": (2000...4500, true), "cell_voltage_min_mv": (2000...4500, true),
        ]
        for (field, value) in fields {
            if booleans.contains(field) {
                guard value.boolValue != nil else { throw CommandFailure(.invalidValue, "\(field) must be true or false") }
            } else if let rule = numbers[field] {
                guard let number = value.numberValue, rule.range.contains(number), !rule.integral || number.rounded() == number else {
                    let kind = rule.integral ? "an integer" : "a number"
                    throw CommandFailure(
                        .invalidValue,
                        "\(field) must be \(kind) in \(JSONValue.format(rule.range.lowerBound))...\(JSONValue.format(rule.range.upperBound))")
                }
            } else {
                throw CommandFailure(.invalidValue, "unknown alert configuration field '\(field)'")
            }
        }
        let known = live.withLock { $0.alertConfig }
        for (minimum, maximum) in [("temperature_min_c", "temperature_max_c"), ("cell_voltage_min_mv", "cell_voltage_max_mv")] {
            let low = fields[minimum]?.numberValue ?? known?[minimum]?.numberValue
            let high = fields[maximum]?.numberValue ?? known?[maximum]?.numberValue
            if let low, let high, low >= high {
                throw CommandFailure(.invalidValue, "\(minimum) (\(JSONValue.format(low))) must be below \(maximum) (\(JSONValue.format(high)))")
            }
        }
    }
}
