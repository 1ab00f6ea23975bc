import BridgeCore
import Logging
import SourceKit
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The TinyBMS web gateway (`tinybms`, contract: shared/apis/tinybms-gw.md, deviations:
// FIELD-NOTES.md "TinyBMS gateway"). Endpoint names, the API behind each, and the document delivered:
//
// | endpoint           | API                                                        | document delivered |
// |--------------------|------------------------------------------------------------|--------------------|
// | `telemetry`        | `/ws/telemetry` frames; while that socket is down, the     | the telemetry object itself, in one of two shapes (the mapping reads alternative paths): |
// |                    | `battery` member of `GET /api/status`                      | documented `battery_data`: `voltage_mv`, `current_ma`, `soc_percent`, `soh_percent`, `temperature_c`, `status`, `cells[]{index, voltage_mv, balancing}`, `protection{ov, uv, oc_charge, oc_discharge, temp_high, temp_low}`, `timestamp_ms` (Unix ms). From `/api/status` only `voltage_mv`, `current_ma`, `soc_percent`, `soh_percent`, `temperature_c`, `cells_count`, `status` (no cells, no protection). |
// |                    |                                                            | deployed `battery` (SI): `pack_voltage_v`, `pack_current_a`, `power_w`, `state_of_charge_pct`, `state_of_health_pct`, `average_temperature_c`, `min/max_temperature_c`, `cell_voltage_mv[16]`, `cell_balancing[16]` (0/1), `min_cell_mv`, `max_cell_mv`, `alarm_bits`, `warning_bits`, `energy_charged_kwh`, `energy_discharged_kwh`, `cycle_count`, `status`, `timestamp_ms` (since boot). The `{"battery": {...}}` envelope is removed (the first frame after connecting has none). |
// |                    |                                                            | Current: positive = charging in both shapes. |
// | `status`           | `GET /api/status` (60 s)                                   | unchanged: documented `{uptime_ms, free_heap, min_heap, task_count, wifi{…}, mqtt{connected, broker}, battery{…}}`; deployed firmware answers `{"battery": {SI}}` only |
// | `alerts`           | `GET /api/alerts/active` at start, every 60 s and after    | `{"alerts": [{alert_id, type, severity, status, message, timestamp_ms}], "count": n}`; the `/ws/alerts` list messages are delivered in this shape too (`count` added, `type` dropped), and a single new alert updates the list |
// |                    | every acknowledgement; `/ws/alerts`                        |  |
// | `alert_event`      | `/ws/alerts` `{"type":"alert","alert":{…}}`                 | the message unchanged (one per new alert; for HA `event` entities) |
// | `event`            | `/ws/events`                                               | the message unchanged: `{"type":"system_event","event":"ALERT_TRIGGERED"…,"timestamp_ms","data":{…}}` |
// | `alert_statistics` | `GET /api/alerts/statistics` (60 s)                        | unchanged |
// | `alert_config`     | `GET /api/alerts/config` (300 s, and after each change)    | unchanged: `enabled`, `debounce_sec`, `temp_high_enabled`, `temperature_max_c`, `temp_low_enabled`, `temperature_min_c`, `cell_volt_high_enabled`, `cell_voltage_max_mv`, `cell_volt_low_enabled`, `cell_voltage_min_mv`, … |
// | `runtime`          | `GET /api/metrics/runtime` (60 s)                          | unchanged |
// | `can`              | `GET /api/can/status` (30 s)                               | unchanged |
// | `mqtt`             | `GET /api/mqtt/status` (60 s)                              | unchanged |
// | `event_bus`        | `GET /api/event-bus/metrics` (300 s)                       | unchanged |
// | `tasks`, `history`, `config`, `mqtt_config`, `alert_history` | `GET /api/system/tasks`, `/api/history?limit=60`, `/api/config`, `/api/mqtt/config`, `/api/alerts/history` | unchanged; read on demand only (not polled) |
//
// Every telemetry document also carries `derived` (added by the adapter, see `withDerived`): `power_w`
// when the firmware sends none, `cell_min_mv` / `cell_max_mv` / `cell_delta_mv`, and `protection{…}`
// decoded from `alarm_bits`; the API's own members are unchanged.
//
// Commands: `execute` sends mapping calls (state-changing ones with the CSRF token when auth is on;
// `POST /api/alerts/config` bodies are validated first, `POST /api/system/restart` goes through the
// restart logic below). `perform` actions: `acknowledge_alert` (value: alert id), `acknowledge_all_alerts`,
// `clear_alert_history`, `restart_bms`, `restart_gateway` (result status 202 = the BMS did not answer
// and the gateway restarted instead), `set_alert_config` (value: an object of fields, or a value with the
// field name as child key).

/// The TinyBMS web gateway adapter; see the table above for its endpoints and actions.
public final class TinyBMSAdapter: SourceAdapter {
    /// How telemetry is read (`stream:`).
    public enum StreamMode: String, Sendable { case websocket, poll }

    static let paths: [String: String] = [
        "telemetry": "/api/status", "status": "/api/status", "runtime": "/api/metrics/runtime", "tasks": "/api/system/tasks",
        "history": "/api/history", "config": "/api/config", "mqtt_config": "/api/mqtt/config", "mqtt": "/api/mqtt/status",
        "alerts": "/api/alerts/active", "alert_history": "/api/alerts/history", "alert_statistics": "/api/alerts/statistics",
        "alert_config": "/api/alerts/config", "can": "/api/can/status", "event_bus": "/api/event-bus/metrics",
    ]

    /// No telemetry frame for this long while the stream runs: `/api/status` is polled meanwhile.
    static let telemetryGap: Duration = .seconds(3)
    /// A restart command within this long of an accepted gateway restart is refused, unless the gateway
    /// was seen going away and answering again since (then it is back and may be restarted again).
    static let gatewayRestartWindow: Duration = .seconds(30)

    let client: SourceHTTPClient
    let mode: StreamMode
    let pollInterval: Duration
    let usesCSRF: Bool
    let logger: Logger
    let live = Mutex(Live())
    public let polls: [PollSchedule]
    public let streamFallback: [PollSchedule]

    struct Live {
        var continuation: AsyncThrowingStream<SourceDocument, any Error>.Continuation?
        var streamID = 0
        var lastTelemetry: ContinuousClock.Instant?
        var activeAlerts: [JSONValue] = []
        var alertConfig: JSONValue?
        var csrfToken: String?
        var restartMark: ContinuousClock.Instant?
        var outageSinceRestart = false
        var warnedSockets: Set<String> = []
    }

    /// - Parameter clock: the time of the rate budget (how long a 429 blocks requests); tests on a
    ///   simulated clock inject theirs. Requests, retries and the stream keep real time.
    public init(
        configuration: SourceConfiguration, pool: HTTPClientPool, logger: Logger, clock: any SourceClock = SystemSourceClock()
    ) throws {
        guard let url = configuration.url else {
            throw CommandFailure(.internalError, "source '\(configuration.id)' has no url")
        }
        let base: SourceURL
        do {
            base = try SourceURL(url.absoluteString)
        } catch {
            throw CommandFailure(.internalError, "source '\(configuration.id)': \(error)")
        }
        mode = StreamMode(rawValue: configuration.string("stream") ?? "websocket") ?? .websocket
        pollInterval = configuration.duration("poll_interval") ?? .seconds(5)
        let auth: any AuthStrategy
        if let username = configuration.string("username"), let password = configuration.secret("password") {
            auth = BasicAuth(username: username, password: Credential(password.revealed))
            usesCSRF = true
        } else {
            auth = NoAuth()
            usesCSRF = false
        }
        client = SourceHTTPClient(
            configuration: SourceHTTPClient.Configuration(
                baseURL: base, timeout: configuration.timeout,
                tls: SourceTLS(caFile: configuration.caFile, insecure: configuration.insecureTLS),
                usesETags: false),
            auth: auth, budget: RateBudget(clock: clock), pool: pool, logger: logger)
        self.logger = logger
        let telemetry = PollSchedule(endpoint: "telemetry", every: pollInterval)
        var polls = [
            PollSchedule(endpoint: "status", every: .seconds(60)), PollSchedule(endpoint: "alerts", every: .seconds(60)),
            PollSchedule(endpoint: "alert_statistics", every: .seconds(60)), PollSchedule(endpoint: "alert_config", every: .seconds(300)),
            PollSchedule(endpoint: "runtime", every: .seconds(60)), PollSchedule(endpoint: "can", every: .seconds(30)),
            PollSchedule(endpoint: "mqtt", every: .seconds(60)), PollSchedule(endpoint: "event_bus", every: .seconds(300)),
        ]
        if mode == .poll { polls.append(telemetry) }
        self.polls = polls
        streamFallback = mode == .poll ? [] : [telemetry]
    }

    // MARK: Reading

    public func read(endpoint: String) async throws -> JSONValue? {
        guard let path = Self.paths[endpoint] else { throw SourceError.notSupported("endpoint '\(endpoint)'") }
        let query: [(name: String, value: String)] = endpoint == "history" ? [(name: "limit", value: "60")] : []
        let response: SourceResponse
        do {
            response = try await client.get(path, query: query)
        } catch {
            noteOutage()
            throw error
        }
        noteContact()
        let document = try Self.parse(response.body, endpoint: endpoint)
        switch endpoint {
        case "telemetry":
            guard let battery = document["battery"], battery.objectValue != nil else {
                throw SourceError.malformedResponse("telemetry: /api/status has no battery object")
            }
            return Self.withDerived(battery)
        case "alerts":
            live.withLock { $0.activeAlerts = document["alerts"]?.arrayValue ?? [] }
        case "alert_config":
            live.withLock { $0.alertConfig = document }
        default:
            break
        }
        return document
    }

    static func parse(_ body: [UInt8], endpoint: String) throws(SourceError) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            throw SourceError.malformedResponse("\(endpoint): \(error)")
        }
    }

    // MARK: Streams

    public var hasStream: Bool { mode == .websocket }

    /// No confirmed telemetry for this long ends the stream (the supervisor then polls `/api/status`
    /// and reconnects with its backoff). Short gaps are bridged inside the stream.
    public var streamSilence: Duration? { mode == .websocket ? .seconds(30) : nil }

    /// `/ws/telemetry`, `/ws/alerts` and `/ws/events` as one stream. The telemetry socket reconnects by
    /// itself with backoff (an eviction by a browser tab costs about a second); while it has delivered
    /// nothing for ``telemetryGap``, `/api/status` is polled every `poll_interval` and its battery object
    /// delivered as `telemetry` (not confirming the stream). When the telemetry socket gives up, or such a
    /// status poll fails too (gateway or BMS restarting), the stream ends with that error. The alert and event sockets never end it: they reconnect by themselves, and when they give up
    /// (older firmware without them) alerts are still polled.
    public func stream() -> AsyncThrowingStream<SourceDocument, any Error>? {
        guard mode == .websocket else { return nil }
        return AsyncThrowingStream { continuation in
            let id = self.live.withLock { live in
                live.streamID += 1
                live.continuation = continuation
                live.lastTelemetry = nil
                return live.streamID
            }
            let task = Task { await self.runStream(continuation) }
            continuation.onTermination = { _ in
                task.cancel()
                self.live.withLock { live in
                    if live.streamID == id { live.continuation = nil }
                }
            }
        }
    }

    private func runStream(_ continuation: AsyncThrowingStream<SourceDocument, any Error>.Continuation) async {
        let eventOptions = WebSocketOptions(
            pingInterval: .seconds(15), idleTimeout: nil, backoff: Backoff(initial: .seconds(1), maximum: .seconds(60)),
            maxConsecutiveFailures: 6)
        let telemetryOptions = WebSocketOptions(
            pingInterval: .seconds(10), idleTimeout: .seconds(10), backoff: Backoff(initial: .seconds(1), maximum: .seconds(8)),
            maxConsecutiveFailures: 4)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.serveSideSocket("/ws/events", options: eventOptions, continuation: continuation) }
            group.addTask { await self.serveSideSocket("/ws/alerts", options: eventOptions, continuation: continuation) }
            group.addTask { await self.bridgeTelemetryGaps(continuation) }
            group.addTask {
                do {
                    for try await text in self.client.webSocket("/ws/telemetry", options: telemetryOptions) {
                        guard let message = Self.json(text), let telemetry = Self.telemetry(from: message) else { continue }
                        self.live.withLock { $0.lastTelemetry = .now }
                        self.noteContact()
                        continuation.yield(SourceDocument(endpoint: "telemetry", document: telemetry))
                    }
                    continuation.finish()
                } catch {
                    self.noteOutage()
                    continuation.finish(throwing: error)
                }
            }
            // The telemetry socket giving up, or a failed status poll during a gap, ends the stream
            // (the side sockets run until cancelled).
            _ = await group.next()
            group.cancelAll()
        }
    }

    /// `/ws/alerts` or `/ws/events` until cancelled; a socket that gives up is logged once and left.
    private func serveSideSocket(
        _ path: String, options: WebSocketOptions, continuation: AsyncThrowingStream<SourceDocument, any Error>.Continuation
    ) async {
        do {
            for try await text in client.webSocket(path, options: options) {
                guard let message = Self.json(text) else { continue }
                for document in documents(fromSideMessage: message) { continuation.yield(document) }
            }
        } catch {
            guard !Task.isCancelled else { return }
            let first = live.withLock { $0.warnedSockets.insert(path).inserted }
            if first {
                logger.warning("TinyBMS WebSocket unavailable; its data is polled instead", metadata: ["path": "\(path)", "error": "\(error)"])
            } else {
                logger.debug("TinyBMS WebSocket unavailable", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        // A side socket never ends the stream: wait for the stream's end.
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    /// Polls `/api/status` while the telemetry socket delivers nothing.
    private func bridgeTelemetryGaps(_ continuation: AsyncThrowingStream<SourceDocument, any Error>.Continuation) async {
        let started = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                return
            }
            let last = live.withLock { $0.lastTelemetry } ?? started
            guard ContinuousClock.now - last >= Self.telemetryGap else { continue }
            do {
                if let battery = try await read(endpoint: "telemetry") {
                    continuation.yield(SourceDocument(endpoint: "telemetry", document: battery, confirmsStream: false))
                }
            } catch {
                // No socket data and no status either (gateway rebooting, BMS restarting): the stream
                // ends, so the supervisor counts the failures (availability) and reconnects with backoff.
                guard !Task.isCancelled else { return }
                continuation.finish(throwing: error)
                return
            }
        }
    }

    /// Documents from an `/ws/alerts` or `/ws/events` message; pongs and unknown messages give none.
    func documents(fromSideMessage message: JSONValue) -> [SourceDocument] {
        switch message["type"]?.stringValue {
        case "alerts":
            let alerts = message["alerts"]?.arrayValue ?? []
            live.withLock { $0.activeAlerts = alerts }
            return [alertsDocument(alerts)]
        case "alert":
            guard let alert = message["alert"], alert.objectValue != nil else { return [] }
            let alerts = live.withLock { live in
                let id = alert["alert_id"]
                live.activeAlerts.removeAll { $0["alert_id"] == id }
                if alert["status"]?.numberValue ?? 0 == 0 { live.activeAlerts.append(alert) }
                return live.activeAlerts
            }
            return [SourceDocument(endpoint: "alert_event", document: message, confirmsStream: false), alertsDocument(alerts)]
        case "system_event":
            return [SourceDocument(endpoint: "event", document: message, confirmsStream: false)]
        default:
            return []
        }
    }

    func alertsDocument(_ alerts: [JSONValue]) -> SourceDocument {
        SourceDocument(
            endpoint: "alerts", document: ["alerts": .array(alerts), "count": .number(Double(alerts.count))], confirmsStream: false)
    }

    static func json(_ text: String) -> JSONValue? {
        try? JSONValue.parse(Array(text.utf8))
    }

    /// The telemetry object of a `/ws/telemetry` message or of the deployed firmware's `{"battery": {...}}`
    /// envelope; nil for anything else (a pong).
    static func telemetry(from message: JSONValue) -> JSONValue? {
        switch message["type"]?.stringValue {
        case "battery_data", "battery": return withDerived(message)
        case nil:
            guard let inner = message["battery"], inner.objectValue != nil else { return nil }
            return withDerived(inner)
        default: return nil
        }
    }

    /// The telemetry object with a `derived` member added for what the mapping cannot compute (no
    /// arithmetic between fields there): `power_w` (pack V × A, only when the firmware sends no
    /// `power_w`), `cell_min_mv`, `cell_max_mv`, `cell_delta_mv` (from `cells[].voltage_mv` or
    /// `cell_voltage_mv[]`), and `protection` (the deployed firmware's `alarm_bits` decoded into the
    /// documented `ov`, `uv`, `oc_charge`, `oc_discharge`, `temp_high`, `temp_low` flags, bits 0–5).
    /// The API's own members stay unchanged.
    static func withDerived(_ telemetry: JSONValue) -> JSONValue {
        guard var object = telemetry.objectValue else { return telemetry }
        var derived: [String: JSONValue] = [:]
        if object["power_w"] == nil {
            if let millivolts = object["voltage_mv"]?.numberValue, let milliamps = object["current_ma"]?.numberValue {
                derived["power_w"] = .number((millivolts * milliamps / 1_000_000 * 10).rounded() / 10)
            } else if let volts = object["pack_voltage_v"]?.numberValue, let amps = object["pack_current_a"]?.numberValue {
                derived["power_w"] = .number((volts * amps * 10).rounded() / 10)
            }
        }
        let cells: [Double]
        if let list = object["cells"]?.arrayValue {
            cells = list.compactMap { $0["voltage_mv"]?.numberValue }
        } else {
            cells = object["cell_voltage_mv"]?.arrayValue?.compactMap(\.numberValue) ?? []
        }
        if let low = cells.min(), let high = cells.max() {
            derived["cell_min_mv"] = .number(low)
            derived["cell_max_mv"] = .number(high)
            derived["cell_delta_mv"] = .number(high - low)
        }
        if let bits = object["alarm_bits"]?.numberValue, bits >= 0, bits < 65_536 {
            let flags = Int(bits)
            let names = ["ov", "uv", "oc_charge", "oc_discharge", "temp_high", "temp_low"]
            derived["protection"] = .object(
                Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, JSONValue.bool(flags & (1 << $0) != 0)) }))
        }
        guard !derived.isEmpty else { return telemetry }
        object["derived"] = .object(derived)
        return .object(object)
    }

    /// Delivers `document` on the running stream, if there is one.
    func inject(_ document: SourceDocument) {
        live.withLock { $0.continuation }?.yield(document)
    }

    // MARK: Gateway restarts

    func noteOutage() {
        live.withLock { live in
            if live.restartMark != nil { live.outageSinceRestart = true }
        }
    }

    /// Contact after an outage that followed a restart ends the restart window.
    func noteContact() {
        live.withLock { live in
            if live.restartMark != nil, live.outageSinceRestart {
                live.restartMark = nil
                live.outageSinceRestart = false
            }
        }
    }

    /// Whether a gateway restart was accepted and has not visibly ended (outage, then contact).
    var gatewayRestarting: Bool {
        live.withLock { live in
            guard let mark = live.restartMark else { return false }
            if ContinuousClock.now - mark > Self.gatewayRestartWindow {
                live.restartMark = nil
                return false
            }
            return true
        }
    }

    public func statistics() async -> AdapterStatistics {
        let statistics = client.statistics
        return AdapterStatistics(
            requests: statistics.requests, lastLatency: statistics.lastLatency, rateBudgetLeft: await client.budget.remaining())
    }

    static func failure(_ error: SourceError, action: String) -> CommandFailure {
        switch error {
        case .timeout: CommandFailure(.timeout, "\(action): no answer from the gateway (\(error))", httpStatus: error.status)
        case .connection: CommandFailure(.callFailed, "\(action): gateway unreachable (\(error))")
        case .unauthorized: CommandFailure(.callFailed, "\(action): authentication failed (check username and password)", httpStatus: 401)
        case .forbidden: CommandFailure(.callFailed, "\(action): forbidden (CSRF token rejected)", httpStatus: 403)
        case .notFound: CommandFailure(.callFailed, "\(action): not found on the gateway", httpStatus: 404)
        default: CommandFailure(.callFailed, "\(action): \(error)", httpStatus: error.status)
        }
    }
}
