import BridgeCore
import NIOCore
import Simulators
import Testing

/// Every REST path of `tinybms-gw.md`, over real sockets.
@Suite("TinyBMS simulator: REST")
struct TinyBMSRESTTests {
    @Test("GET /api/status: the document's shape, a 16S pack in mV/mA, the same values as the simulator holds")
    func status() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.tick(5)
            let answer = try await http.get("/api/status")
            #expect(answer.status == 200)
            #expect(answer.headers["content-type"] == "application/json")
            let status = try #require(answer.json)
            #expect(status.keys == ["uptime_ms", "free_heap", "min_heap", "task_count", "wifi", "mqtt", "battery"])
            #expect(status["uptime_ms"]?.integer == 5_000, "5 ticks of 1 s simulated time")
            #expect(status["wifi"]?.keys == ["connected", "ssid", "rssi", "ip", "gateway", "netmask"])
            #expect(status["mqtt"]?.keys == ["connected", "broker"])
            let battery = try #require(status["battery"])
            #expect(battery.keys == ["voltage_mv", "current_ma", "soc_percent", "soh_percent", "temperature_c", "cells_count", "status"])
            #expect(battery["cells_count"]?.integer == 16)
            let state = simulator.state
            #expect(battery["voltage_mv"]?.number == (state.packVoltage * 1000).rounded())
            #expect(battery["current_ma"]?.number == (state.current * 1000).rounded())
            #expect(battery["status"]?.string == state.status)
            let millivolts = try #require(battery["voltage_mv"]?.number)
            #expect((40_000...58_400).contains(millivolts))
        }
    }

    @Test("runtime metrics, FreeRTOS tasks, event bus, CAN and MQTT status carry the document's fields")
    func systemDocuments() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.tick(3)
            let runtime = try #require(try await http.get("/api/metrics/runtime").json)
            #expect(runtime.keys == ["uptime_s", "free_heap", "min_heap_ever", "largest_free_block", "tasks", "cpu_usage_percent"])
            #expect(runtime["tasks"]?.keys == ["total", "running", "blocked", "suspended"])
            let tasks = try #require(try await http.get("/api/system/tasks").json?["tasks"]?.array)
            #expect(tasks.count >= 2)
            #expect(tasks.allSatisfy { $0.keys == ["name", "state", "priority", "stack_high_water_mark"] })
            let bus = try #require(try await http.get("/api/event-bus/metrics").json)
            #expect(bus.keys == ["total_publishes", "total_subscriptions", "active_subscriptions", "queue_length", "queue_max", "dropped_events"])
            let can = try #require(try await http.get("/api/can/status").json)
            #expect(can.keys == ["enabled", "state", "speed", "tx_pin", "rx_pin", "protocol", "messages_sent", "messages_received", "errors", "last_error"])
            #expect(can["state"]?.string == "RUNNING")
            #expect(can["messages_sent"]?.integer == 6, "two Victron frames per tick")
            simulator.setCANState("BUS_OFF")
            let busOff = try #require(try await http.get("/api/can/status").json)
            #expect(busOff["state"]?.string == "BUS_OFF" && busOff["last_error"]?.string == "BUS_OFF" && busOff["errors"]?.integer == 1)

            let mqtt = try #require(try await http.get("/api/mqtt/status").json)
            #expect(mqtt.keys == ["connected", "broker", "client_id", "messages_sent", "messages_received", "errors", "last_error"])
            #expect(mqtt["connected"]?.bool == true)
            simulator.setMQTTConnected(false, error: "broker unreachable")
            let down = try #require(try await http.get("/api/mqtt/status").json)
            #expect(down["connected"]?.bool == false && down["last_error"]?.string == "broker unreachable")
        }
    }

    @Test("GET /api/history returns the newest samples up to limit, with total; a bad limit is 400")
    func history() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.tick(10)
            let all = try await http.get("/api/history")
            #expect(all.headers["cache-control"] == "no-store")
            let document = try #require(all.json)
            #expect(document["total"]?.integer == 10)
            let samples = try #require(document["samples"]?.array)
            #expect(samples.count == 10)
            #expect(samples.allSatisfy {
                $0.keys == ["timestamp", "timestamp_iso", "pack_voltage", "pack_current", "state_of_charge", "state_of_health", "average_temperature"]
            })
            let stamps = samples.compactMap { $0["timestamp"]?.integer }
            #expect(stamps == stamps.sorted() && Set(stamps).count == 10)
            let limited = try #require(try await http.get("/api/history?limit=3").json)
            #expect(limited["total"]?.integer == 10 && limited["returned"]?.integer == 3)
            #expect(limited["samples"]?.array.map { $0.compactMap { $0["timestamp"]?.integer } } == Array(stamps.suffix(3)))
            let state = simulator.state
            #expect(samples.last?["pack_current"]?.number == (state.current * 100).rounded() / 100)
            #expect(try await http.get("/api/history?limit=abc").status == 400)
        }
    }

    @Test("GET/POST /api/config: a valid change applies and emits CONFIG_SAVED; an invalid one is 400 with the document's error and changes nothing")
    func gatewayConfig() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            let config = try #require(try await http.get("/api/config").json)
            #expect(config.keys == ["wifi", "mqtt", "uart", "can"])
            #expect(config["mqtt"]?["topics"]?.keys == ["status", "metrics", "config"])
            #expect(config["uart"]?["baudrate"]?.integer == 115_200)

            let events = try await openSocket(simulator, "/ws/events")
            let saved = try await http.post("/api/config", body: #"{"wifi_ssid":"NewNetwork","mqtt_port":1884}"#)
            #expect(saved.status == 200)
            #expect(saved.json?["success"]?.bool == true)
            #expect(simulator.state.wifiSSID == "NewNetwork" && simulator.state.mqttPort == 1884)
            try await events.document("CONFIG_SAVED") { $0["event"]?.string == "CONFIG_SAVED" }

            let rejected = try await http.post("/api/config", body: #"{"wifi_ssid":"\#(String(repeating: "x", count: 33))","mqtt_port":1}"#)
            #expect(rejected.status == 400)
            let error = try #require(rejected.json)
            #expect(error.keys == ["error", "code", "details"])
            #expect(error["code"]?.string == "INVALID_CONFIG")
            #expect(error["details"]?.string?.contains("wifi_ssid") == true)
            #expect(simulator.state.mqttPort == 1884, "all or nothing")
            #expect(try await http.post("/api/config", body: "not json").status == 400)
            try await events.close()
        }
    }

    @Test("GET/POST /api/mqtt/config: password masked, changes applied, bad port rejected")
    func mqttConfig() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            let config = try #require(try await http.get("/api/mqtt/config").json)
            #expect(config["password"]?.string == "********")
            #expect(config["topics"]?.keys == ["status", "metrics", "config", "can_raw", "can_decoded", "can_ready"])
            #expect(config["host"]?.string == "192.168.1.10")
            let answer = try await http.post("/api/mqtt/config", body: #"{"broker_uri":"mqtt://new-broker.com","port":1883,"username":"newuser","password":"pw","topic_status":"custom/status"}"#)
            #expect(answer.status == 200 && answer.json?["message"]?.string == "MQTT configuration updated")
            let after = try #require(try await http.get("/api/mqtt/config").json)
            #expect(after["host"]?.string == "new-broker.com" && after["username"]?.string == "newuser")
            #expect(after["topics"]?["status"]?.string == "custom/status")
            #expect(after["password"]?.string == "********")
            #expect(try await http.post("/api/mqtt/config", body: #"{"port":70000}"#).status == 400)
            #expect(simulator.state.mqttPort == 1883)
        }
    }

    @Test("GET/POST /api/alerts/config: only the posted fields change; out of range or min ≥ max is 400 and changes nothing")
    func alertConfig() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            let config = try #require(try await http.get("/api/alerts/config").json)
            #expect(config.keys == [
                "enabled", "debounce_sec", "temp_high_enabled", "temperature_max_c", "temp_low_enabled", "temperature_min_c",
                "cell_volt_high_enabled", "cell_voltage_max_mv", "cell_volt_low_enabled", "cell_voltage_min_mv",
                "monitor_tinybms_events", "monitor_status_changes",
            ])
            let answer = try await http.post("/api/alerts/config", body: #"{"debounce_sec":120,"temperature_max_c":50}"#)
            #expect(answer.status == 200 && answer.json == ["success": true])
            let after = try #require(try await http.get("/api/alerts/config").json)
            #expect(after["debounce_sec"]?.integer == 120 && after["temperature_max_c"]?.number == 50)
            #expect(after["cell_voltage_max_mv"]?.integer == 3650, "untouched")
            for body in [#"{"temperature_max_c":500}"#, #"{"cell_voltage_min_mv":3700}"#, #"{"enabled":"yes"}"#, #"{"debounce_sec":1.5}"#, #"{"bogus":1}"#] {
                #expect(try await http.post("/api/alerts/config", body: body).status == 400, "\(body)")
            }
            #expect(simulator.state.alertConfig.temperatureMaxC == 50 && simulator.state.alertConfig.cellVoltageMinMv == 2800)
        }
    }

    @Test("alerts: active list, acknowledge by id and all, history with limit/offset, statistics, DELETE history")
    func alerts() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            let first = simulator.raiseAlert(type: 1, severity: 2, message: "Température élevée")
            simulator.raiseAlert(type: 4, severity: 1, message: "Tension cellule basse")
            simulator.raiseAlert(type: 10, severity: 0, message: "info")
            let active = try #require(try await http.get("/api/alerts/active").json)
            #expect(active["count"]?.integer == 3)
            let alerts = try #require(active["alerts"]?.array)
            #expect(alerts.allSatisfy { $0.keys == ["alert_id", "type", "severity", "status", "message", "timestamp_ms"] })
            #expect(alerts.allSatisfy { $0["status"]?.integer == 0 })

            let one = try await http.post("/api/alerts/acknowledge/\(first.alertId)", body: "")
            #expect(one.status == 200 && one.json == ["success": true, "alert_id": .number(Double(first.alertId))])
            #expect(try await http.get("/api/alerts/active").json?["count"]?.integer == 2)
            let again = try await http.post("/api/alerts/acknowledge/\(first.alertId)", body: "")
            #expect(again.status == 404 && again.json?["code"]?.string == "ALERT_NOT_FOUND")
            #expect(try await http.post("/api/alerts/acknowledge/abc", body: "").status == 400)

            let all = try await http.post("/api/alerts/acknowledge", body: "")
            #expect(all.json == ["success": true, "acknowledged_count": 2])
            #expect(simulator.state.activeAlerts.isEmpty)

            let history = try #require(try await http.get("/api/alerts/history?limit=2&offset=1").json)
            #expect(history["total"]?.integer == 3 && history["limit"]?.integer == 2 && history["offset"]?.integer == 1)
            let page = try #require(history["alerts"]?.array)
            #expect(page.compactMap { $0["alert_id"]?.integer } == [2, 1], "newest first, after the offset")
            #expect(page.allSatisfy { $0["status"]?.integer == 1 && $0["ack_timestamp_ms"] != nil })
            #expect(try await http.get("/api/alerts/history?limit=-1").status == 400)

            let statistics = try #require(try await http.get("/api/alerts/statistics").json)
            #expect(statistics == [
                "total_alerts": 3, "active_alert_count": 0, "critical_count": 1, "warning_count": 1, "info_count": 1,
                "avg_acknowledgment_time_ms": 0,
            ])
            let deleted = try await http.send("DELETE", "/api/alerts/history")
            #expect(deleted.json == ["success": true, "deleted_count": 3])
            #expect(try await http.get("/api/alerts/history").json?["total"]?.integer == 0)
        }
    }

    @Test("restart target bms: 200 without gateway restart; BMS data 503 until it ends; a second one meanwhile is refused")
    func restartBMS() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.tick()
            let answer = try await http.post("/api/system/restart", body: #"{"target":"bms"}"#)
            #expect(answer.status == 200)
            #expect(answer.json == ["status": "scheduled", "bms_attempted": true, "bms_status": "ok", "gateway_restart": false, "delay_ms": 0])
            #expect(simulator.state.bmsRestarting)
            #expect(try await http.get("/api/status").status == 503)
            #expect(simulator.tick() == nil, "no telemetry while the BMS restarts")
            #expect(try await http.get("/api/mqtt/status").status == 200, "the gateway itself answers")
            #expect(try await http.post("/api/system/restart", body: #"{"target":"bms"}"#).status == 503)
            try await simulator.finishRestart()
            #expect(try await http.get("/api/status").status == 200)
            #expect(simulator.tick() != nil)
            #expect(simulator.state.restartRequests == ["bms"])
        }
    }

    @Test("restart target gateway: 200, then the gateway is down (connections refused) until it boots again")
    func restartGateway() async throws {
        try await withTinyBMS(keepAlive: false) { (simulator, http) async throws in
            let answer = try await http.post("/api/system/restart", body: #"{"target":"gateway","delay_ms":0}"#)
            #expect(answer.status == 200)
            #expect(answer.json?["gateway_restart"]?.bool == true && answer.json?["bms_attempted"]?.bool == false)
            try await eventually("the gateway to go down") { simulator.state.gatewayRebooting }
            #expect(!simulator.state.isRunning)
            let refused = TestHTTPClient(port: try port(of: simulator), keepAlive: false, connectTimeout: .milliseconds(200))
            await #expect(throws: (any Error).self) { _ = try await refused.post("/api/system/restart", body: #"{"target":"bms"}"#) }
            try await refused.shutdown()
            try await simulator.finishRestart()
            #expect(simulator.state.boots == 2 && !simulator.state.gatewayRebooting)
            #expect(try await http.get("/api/status").status == 200)
        }
    }

    @Test("restart: invalid target or JSON is 400; no restart happens")
    func restartValidation() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            #expect(try await http.post("/api/system/restart", body: #"{"target":"wifi"}"#).status == 400)
            #expect(try await http.post("/api/system/restart", body: "{").status == 400)
            #expect(try await http.post("/api/system/restart", body: #"{"delay_ms":-5}"#).status == 400)
            #expect(simulator.state.restartRequests.isEmpty && !simulator.state.bmsRestarting)
        }
    }

    @Test("a plain GET on a WebSocket path is 400")
    func webSocketPathWithoutUpgrade() async throws {
        try await withTinyBMS { (_, http) async throws in
            #expect(try await http.get("/ws/telemetry").status == 400)
        }
    }
}
