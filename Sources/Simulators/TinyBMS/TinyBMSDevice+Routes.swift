import BridgeCore
import Foundation
import Hummingbird
import Synchronization

/// The REST paths of the TinyBMS gateway API.
extension TinyBMSDevice {
    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/status") { _, _ in self.status() }
        router.get("/api/metrics/runtime") { _, _ in self.json(self.runtimeMetrics()) }
        router.get("/api/system/tasks") { _, _ in self.json(Self.tasks) }
        router.get("/api/history") { request, _ in self.history(request) }
        router.get("/api/config") { _, _ in self.json(self.store.withLock { Self.configDocument($0.gateway) }) }
        router.post("/api/config") { request, _ in
            let body = try await Self.body(request)
            return self.update { (store: inout TinyBMSStore) throws(TinyBMSRequestError) -> JSONValue in
                try store.gateway.applyConfig(body)
                return ["success": true, "message": "Configuration saved, restarting..."]
            } after: {
                self.emitEvent("CONFIG_SAVED", data: [:])
            }
        }
        router.post("/api/system/restart") { request, _ in try await self.restart(request) }
        router.get("/api/mqtt/config") { _, _ in self.json(self.store.withLock { Self.mqttConfigDocument($0.gateway) }) }
        router.post("/api/mqtt/config") { request, _ in
            let body = try await Self.body(request)
            return self.update { (store: inout TinyBMSStore) throws(TinyBMSRequestError) -> JSONValue in
                try store.gateway.applyMQTT(body)
                return ["success": true, "message": "MQTT configuration updated"]
            }
        }
        router.get("/api/mqtt/status") { _, _ in self.json(self.store.withLock { Self.mqttStatus($0) }) }
        router.get("/api/alerts/active") { _, _ in
            let active = self.store.withLock { $0.alerts.active }
            return self.json(["alerts": .array(active.map(\.json)), "count": .number(Double(active.count))])
        }
        router.get("/api/alerts/history") { request, _ in self.alertHistory(request) }
        router.delete("/api/alerts/history") { _, _ in
            let deleted = self.store.withLock { $0.alerts.clearHistory() }
            return self.json(["success": true, "deleted_count": .number(Double(deleted))])
        }
        router.get("/api/alerts/statistics") { _, _ in self.json(self.store.withLock { $0.alerts.statistics }) }
        router.get("/api/alerts/config") { _, _ in self.json(self.store.withLock { $0.alerts.config.json }) }
        router.post("/api/alerts/config") { request, _ in
            let body = try await Self.body(request)
            return self.update { (store: inout TinyBMSStore) throws(TinyBMSRequestError) -> JSONValue in
                try store.alerts.config.apply(body)
                return ["success": true]
            }
        }
        router.post("/api/alerts/acknowledge") { _, _ in
            let count = self.store.withLock { store in
                store.alerts.acknowledgeAll(now: self.configuration.epochMilliseconds + store.simulatedMs)
            }
            self.broadcastActiveAlerts()
            return self.json(["success": true, "acknowledged_count": .number(Double(count))])
        }
        router.post("/api/alerts/acknowledge/:id") { _, context in
            guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else {
                return self.error(TinyBMSRequestError(status: 400, code: "INVALID_ALERT_ID", message: "alert id must be a positive integer"))
            }
            let acknowledged = self.store.withLock { store in
                store.alerts.acknowledge(id: id, now: self.configuration.epochMilliseconds + store.simulatedMs)
            }
            guard acknowledged else {
                return self.error(TinyBMSRequestError(status: 404, code: "ALERT_NOT_FOUND", message: "no active alert with id \(id)"))
            }
            self.broadcastActiveAlerts()
            return self.json(["success": true, "alert_id": .number(Double(id))])
        }
        router.get("/api/can/status") { _, _ in self.json(self.store.withLock { Self.canStatus($0) }) }
        router.get("/api/event-bus/metrics") { _, _ in
            let publishes = self.store.withLock { $0.eventPublishes }
            let subscriptions = self.sockets.openByPath.values.reduce(0, +)
            return self.json([
                "total_publishes": .number(Double(publishes)), "total_subscriptions": .number(Double(10 + subscriptions)),
                "active_subscriptions": .number(Double(7 + subscriptions)), "queue_length": 0, "queue_max": 50, "dropped_events": 0,
            ])
        }
        router.get("/api/security/csrf") { _, _ in
            let token = self.store.withLock { $0.csrfToken }
            return self.json(["token": .string(token), "header": "X-CSRF-Token", "expires_in_ms": 3_600_000])
        }
        for path in Self.socketPaths {
            router.get(RouterPath(path)) { _, _ in
                // Reached only by requests that are not (accepted) WebSocket upgrades.
                self.error(TinyBMSRequestError(status: 400, code: "UPGRADE_REQUIRED", message: "WebSocket upgrade required"))
            }
        }
    }

    // MARK: Answers

    /// A JSON answer.
    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonString)))
    }

    /// An error answer: the document's `{"error","code","details"}`, or plain text with ``Quirk/tinyBMSPlainTextErrors``.
    func error(_ failure: TinyBMSRequestError) -> Response {
        let status = HTTPResponse.Status(code: failure.status)
        if faults.isEnabled(.tinyBMSPlainTextErrors) {
            return Response(
                status: status, headers: [.contentType: "text/plain"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "\(status.reasonPhrase): \(failure.message)")))
        }
        let title = failure.code == "INVALID_CONFIG" ? "Invalid configuration" : status.reasonPhrase
        return json(["error": .string(title), "code": .string(failure.code), "details": .string(failure.message)], status: status)
    }

    /// Applies a state change atomically: `{"success": true, …}`, or the error and no change.
    private func update(
        _ change: (inout TinyBMSStore) throws(TinyBMSRequestError) -> JSONValue, after: () -> Void = {}
    ) -> Response {
        let outcome = store.withLock { store in
            Result { () throws(TinyBMSRequestError) -> JSONValue in try change(&store) }
        }
        switch outcome {
        case .success(let answer):
            after()
            return json(answer)
        case .failure(let failure):
            return error(failure)
        }
    }

    /// The request body as JSON; nil when empty, `.null`-free error when it is not JSON.
    static func body(_ request: Request) async throws -> JSONValue? {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 16)
        guard buffer.readableBytes > 0 else { return nil }
        return try? JSONValue.parse(Array(buffer.readableBytesView))
    }

    // MARK: Endpoints

    private func status() -> Response {
        let (store, wrapped) = (self.store.withLock { $0 }, faults.isEnabled(.tinyBMSWrappedTelemetry))
        guard !store.bmsRestarting else {
            return error(TinyBMSRequestError(status: 503, code: "BMS_UNAVAILABLE", message: "BMS restarting, no data"))
        }
        if wrapped {
            return json(["battery": Self.siFrame(store.pack, uptime: store.uptimeMs)])
        }
        let pack = store.pack
        return json([
            "uptime_ms": .number(Double(store.uptimeMs)), "free_heap": .number(Double(Self.freeHeap(store))), "min_heap": 40_000,
            "task_count": .number(Double(Self.tasks["tasks"]?.arrayValue?.count ?? 0)),
            "wifi": [
                "connected": true, "ssid": .string(store.gateway.wifiSSID), "rssi": -45, "ip": "192.168.1.100",
                "gateway": "192.168.1.1", "netmask": "255.255.255.0",
            ],
            "mqtt": ["connected": .bool(store.mqttConnected), "broker": .string(store.gateway.mqttBrokerURI)],
            "battery": [
                "voltage_mv": .number((pack.packVoltage * 1000).rounded()), "current_ma": .number((pack.current * 1000).rounded()),
                "soc_percent": .number(Self.round(pack.soc, 1)), "soh_percent": .number(Self.round(pack.soh, 1)),
                "temperature_c": .number(Self.round(pack.temperature, 1)), "cells_count": .number(Double(TinyBMSPack.cellCount)),
                "status": .string(pack.status),
            ],
        ])
    }

    private static func freeHeap(_ store: TinyBMSStore) -> Int {
        45_678 - Int((store.uptimeMs / 1000) % 64) * 32
    }

    private func runtimeMetrics() -> JSONValue {
        let store = self.store.withLock { $0 }
        return [
            "uptime_s": .number(Double(store.uptimeMs / 1000)), "free_heap": .number(Double(Self.freeHeap(store))),
            "min_heap_ever": 40_000, "largest_free_block": 32_768,
            "tasks": ["total": 12, "running": 2, "blocked": 8, "suspended": 2],
            "cpu_usage_percent": .number(Double(10 + store.ticks % 7)),
        ]
    }

    static let tasks: JSONValue = [
        "tasks": [
            ["name": "IDLE", "state": "Ready", "priority": 0, "stack_high_water_mark": 128],
            ["name": "mqtt_task", "state": "Blocked", "priority": 5, "stack_high_water_mark": 512],
            ["name": "uart_poll", "state": "Blocked", "priority": 6, "stack_high_water_mark": 768],
            ["name": "can_tx", "state": "Blocked", "priority": 6, "stack_high_water_mark": 640],
            ["name": "httpd", "state": "Running", "priority": 5, "stack_high_water_mark": 1_024],
            ["name": "event_bus", "state": "Blocked", "priority": 4, "stack_high_water_mark": 896],
            ["name": "monitoring", "state": "Blocked", "priority": 3, "stack_high_water_mark": 700],
            ["name": "alert_mgr", "state": "Blocked", "priority": 3, "stack_high_water_mark": 600],
            ["name": "wifi", "state": "Blocked", "priority": 23, "stack_high_water_mark": 1_200],
            ["name": "tiT", "state": "Blocked", "priority": 18, "stack_high_water_mark": 900],
            ["name": "esp_timer", "state": "Suspended", "priority": 22, "stack_high_water_mark": 2_100],
            ["name": "ipc0", "state": "Suspended", "priority": 24, "stack_high_water_mark": 500],
        ],
    ]

    private func history(_ request: Request) -> Response {
        let store = self.store.withLock { $0 }
        guard !store.bmsRestarting else {
            return error(TinyBMSRequestError(status: 503, code: "BMS_UNAVAILABLE", message: "BMS restarting, no data"))
        }
        var limit = store.samples.count
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), value >= 0 else {
                return error(TinyBMSRequestError(status: 400, code: "INVALID_PARAMETER", message: "limit must be a non-negative integer"))
            }
            limit = min(value, store.samples.count)
        }
        let samples = Array(store.samples.suffix(limit))
        return json([
            "total": .number(Double(store.samples.count)), "samples": .array(samples),
            "interval_ms": .number((tickSeconds * 1000).rounded()), "capacity": .number(Double(TinyBMSStore.historyCapacity)),
            "returned": .number(Double(samples.count)),
        ])
    }

    private func alertHistory(_ request: Request) -> Response {
        let parameters = request.uri.queryParameters
        var limit = 50, offset = 0
        for (name, target) in [("limit", 0), ("offset", 1)] {
            guard let text = parameters.get(name) else { continue }
            guard let value = Int(text), value >= 0, value <= 10_000 else {
                return error(TinyBMSRequestError(status: 400, code: "INVALID_PARAMETER", message: "\(name) must be an integer in 0...10000"))
            }
            if target == 0 { limit = value } else { offset = value }
        }
        let alerts = store.withLock { Array($0.alerts.alerts.reversed()) }
        let page = alerts.dropFirst(offset).prefix(limit)
        return json([
            "alerts": .array(page.map(\.json)), "total": .number(Double(alerts.count)),
            "limit": .number(Double(limit)), "offset": .number(Double(offset)),
        ])
    }

    private func restart(_ request: Request) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 16)
        var target = "bms"
        var delayMs = 750
        if buffer.readableBytes > 0 {
            guard buffer.readableBytes <= 256, let body = try? JSONValue.parse(Array(buffer.readableBytesView)), let object = body.objectValue else {
                return error(TinyBMSRequestError(status: 400, code: "INVALID_REQUEST", message: "invalid or too large JSON"))
            }
            if let value = object["target"] {
                guard let text = value.stringValue, ["bms", "gateway"].contains(text) else {
                    return error(TinyBMSRequestError(status: 400, code: "INVALID_REQUEST", message: "target must be \"bms\" or \"gateway\""))
                }
                target = text
            }
            if let value = object["delay_ms"] {
                guard let number = value.numberValue, number.rounded() == number, (0...60_000).contains(number) else {
                    return error(TinyBMSRequestError(status: 400, code: "INVALID_REQUEST", message: "delay_ms must be an integer in 0...60000"))
                }
                delayMs = Int(number)
            }
        }
        let busy: String? = store.withLock { store in
            if store.gatewayRestartScheduled { return "gateway restart already scheduled" }
            if target == "bms", store.bmsRestarting { return "BMS restart in progress" }
            store.restartRequests.append(target)
            return nil
        }
        if let busy {
            return error(TinyBMSRequestError(status: 503, code: "RESTART_BUSY", message: busy))
        }
        if target == "bms" && !faults.consume(.tinyBMSRestartFallback) {
            beginBMSRestart()
            emitEvent("BMS_RESTART", data: ["target": "bms"])
            return json(["status": "scheduled", "bms_attempted": true, "bms_status": "ok", "gateway_restart": false, "delay_ms": 0])
        }
        let fallback = target == "bms"
        store.withLock { $0.gatewayRestartScheduled = true }
        onGatewayRestart.withLock { $0 }?(.milliseconds(delayMs))
        return json(
            [
                "status": "scheduled", "bms_attempted": .bool(fallback), "bms_status": fallback ? "timeout" : "skipped",
                "gateway_restart": true, "delay_ms": .number(Double(delayMs)),
            ],
            status: fallback ? .accepted : .ok)
    }

    // MARK: Settings documents

    static func configDocument(_ settings: TinyBMSGatewaySettings) -> JSONValue {
        [
            "wifi": ["ssid": .string(settings.wifiSSID), "static_ip": "", "gateway": "", "netmask": ""],
            "mqtt": [
                "broker_uri": .string(settings.mqttBrokerURI), "port": .number(Double(settings.mqttPort)),
                "username": .string(settings.mqttUsername), "client_id": .string(settings.clientId),
                "topics": ["status": .string(settings.topicStatus), "metrics": .string(settings.topicMetrics), "config": .string(settings.topicConfig)],
            ],
            "uart": ["baudrate": 115_200, "tx_pin": 17, "rx_pin": 16, "timeout_ms": 1_000],
            "can": ["speed": 500_000, "tx_pin": 5, "rx_pin": 4, "protocol": "VICTRON"],
        ]
    }

    static func mqttConfigDocument(_ settings: TinyBMSGatewaySettings) -> JSONValue {
        [
            "scheme": .string(settings.scheme), "broker_uri": .string(settings.mqttBrokerURI), "host": .string(settings.host),
            "port": .number(Double(settings.mqttPort)), "username": .string(settings.mqttUsername), "password": "********",
            "client_cert_path": "", "ca_cert_path": "", "verify_hostname": false,
            "keepalive": .number(Double(settings.mqttKeepalive)), "default_qos": .number(Double(settings.mqttQoS)),
            "retain": .bool(settings.mqttRetain),
            "topics": [
                "status": .string(settings.topicStatus), "metrics": .string(settings.topicMetrics), "config": .string(settings.topicConfig),
                "can_raw": "tinybms/can/raw", "can_decoded": "tinybms/can/decoded", "can_ready": "tinybms/can/ready",
            ],
        ]
    }

    static func mqttStatus(_ store: TinyBMSStore) -> JSONValue {
        [
            "connected": .bool(store.mqttConnected), "broker": .string(store.gateway.mqttBrokerURI),
            "client_id": .string(store.gateway.clientId), "messages_sent": .number(Double(store.mqttSent)),
            "messages_received": .number(Double(store.mqttReceived)), "errors": .number(Double(store.mqttErrors)),
            "last_error": .string(store.mqttLastError),
        ]
    }

    static func canStatus(_ store: TinyBMSStore) -> JSONValue {
        [
            "enabled": true, "state": .string(store.canState), "speed": 500_000, "tx_pin": 5, "rx_pin": 4, "protocol": "VICTRON",
            "messages_sent": .number(Double(store.canSent)), "messages_received": .number(Double(store.canReceived)),
            "errors": .number(Double(store.canErrors)), "last_error": .string(store.canLastError),
        ]
    }
}

/// HTTP Basic auth (when configured) on every path, and the CSRF token on state-changing calls.
struct TinyBMSAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let device: TinyBMSDevice

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let credentials = device.configuration.credentials else { return try await next(request, context) }
        let expected = "Basic " + Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
        guard request.headers[.authorization] == expected else {
            var response = device.error(TinyBMSRequestError(status: 401, code: "UNAUTHORIZED", message: "authentication required"))
            response.headers[.wwwAuthenticate] = "Basic realm=\"TinyBMS-GW\""
            return response
        }
        if [.post, .put, .patch, .delete].contains(request.method) {
            let token = request.headers.first { $0.name.canonicalName == "x-csrf-token" }?.value
            guard token == device.store.withLock({ $0.csrfToken }) else {
                return device.error(TinyBMSRequestError(status: 403, code: "CSRF_INVALID", message: "missing or invalid CSRF token"))
            }
        }
        return try await next(request, context)
    }
}
