import BridgeCore
import Foundation
import Simulators
import Testing

/// Every REST path of `cozify-han-reader.openapi.yaml`: happy paths and the documented error answers.
@Suite("Cozify HAN simulator: REST paths")
struct CozifyHANRESTTests {
    @Test("GET /han answers a HanStateMessage")
    func han() async throws {
        try await withHAN { _, http in
            let result = try await http.get("/han")
            #expect(result.status == 200)
            #expect(result.headers["content-type"] == "application/json")
            let json = try #require(result.json)
            #expect(json.keys == stateMessageKeys)
            #expect(json["type"]?.string == "HAN_STATE_MESSAGE")
            #expect(json["online"]?.bool == true)
            #expect(json["uuid"]?.string == "7f2f8c1e-2c6d-4a25-b2b1-6f6a27d5f5de")
            #expect(json["model"]?.string == "HAN")
            #expect(json["state"]?.string == "REGISTERED")
            // The factory configuration has Wi-Fi with DHCP and Ethernet off.
            #expect(json["wifiIp"]?.string == "192.168.2.50")
            #expect(json["ethIp"]?.string == "0.0.0.0")
            for key in stateMessageKeys.subtracting(["online"]) {
                #expect(json[key]?.string != nil, "\(key) must be a string")
            }
        }
    }

    @Test("/meter and /meter/id answer 503 until the first telegram, then the telegram and the identity")
    func meterBeforeAndAfterFirstTelegram() async throws {
        try await withHAN { simulator, http in
            #expect(try await http.get("/meter").status == 503)
            #expect(try await http.get("/meter/id").status == 503)
            #expect(!simulator.state.hasMeterData)

            let sent = simulator.emitTelegramNow()
            let meter = try await http.get("/meter")
            #expect(meter.status == 200)
            #expect(meter.headers["content-type"] == "application/json")
            let json = try #require(meter.json)
            #expect(json.keys == meterMessageKeys)
            #expect(json["type"]?.string == "HAN_METER_MESSAGE")
            #expect(json["ts"]?.integer == sent.ts)
            for key in ["p", "pi", "pe", "r", "ri", "re"] {
                #expect(json[key]?.numbers?.count == 4, "\(key) has the total and three phases")
            }
            for key in ["u", "i"] {
                #expect(json[key]?.numbers?.count == 3, "\(key) has three phases")
            }
            #expect(try JSONDecoder().decode(CozifyHANTelegram.self, from: Data(meter.body)) == sent)
            #expect(simulator.state.lastTelegram == sent)
            #expect(simulator.state.hasMeterData)

            let identity = try await http.get("/meter/id")
            #expect(identity.status == 200)
            let identityJSON = try #require(identity.json)
            #expect(identityJSON.keys == meterIdentityKeys)
            #expect(identityJSON["type"]?.string == "HAN_METER_IDENTITY_MESSAGE")
            #expect(identityJSON["manufacturerId"]?.string == "KFM")
            // The document's maxLength limits.
            for (key, limit) in [("manufacturerId", 4), ("deviceType", 2), ("meterId", 16), ("meterName", 16)] {
                let value = try #require(identityJSON[key]?.string, "\(key)")
                #expect(!value.isEmpty && value.count <= limit, "\(key)")
            }
        }
    }

    @Test("/meter always answers the latest telegram")
    func meterFollowsTelegrams() async throws {
        try await withHAN { simulator, http in
            for _ in 0..<3 {
                let sent = simulator.emitTelegramNow()
                let meter = try await http.get("/meter")
                #expect(try JSONDecoder().decode(CozifyHANTelegram.self, from: Data(meter.body)) == sent)
            }
            #expect(simulator.state.telegramCount == 3)
        }
    }

    @Test("with a long meterDelay /meter stays 503: no telegram comes before it")
    func meterDelayHoldsBackTelegrams() async throws {
        try await withHAN(.test(meterDelay: .seconds(3_600))) { simulator, http in
            let meter = try await http.get("/meter")
            let identity = try await http.get("/meter/id")
            #expect(meter.status == 503)
            #expect(identity.status == 503)
            #expect(simulator.state.telegramCount == 0)
        }
    }

    @Test("telegrams arrive by themselves every telegramInterval, without emitTelegramNow()")
    func automaticTelegrams() async throws {
        try await withHAN(.test(interval: .milliseconds(20), meterDelay: .milliseconds(20))) { simulator, http in
            try await eventually("three automatic telegrams") { simulator.state.telegramCount >= 3 }
            let meter = try await http.get("/meter")
            #expect(meter.status == 200)
            let telegram = try JSONDecoder().decode(CozifyHANTelegram.self, from: Data(meter.body))
            #expect(simulator.state.telegrams.contains(telegram))
            #expect(MeterPhysics.violations(simulator.state.telegrams) == [])
        }
    }

    @Test("GET /health answers a HanHealthMessage whose uptime grows")
    func health() async throws {
        try await withHAN { _, http in
            let first = try await http.get("/health")
            #expect(first.status == 200)
            let json = try #require(first.json)
            #expect(json.keys == healthMessageKeys)
            #expect(json["type"]?.string == "HAN_HEALTH_MESSAGE")
            #expect(json["uuid"]?.string == "7f2f8c1e-2c6d-4a25-b2b1-6f6a27d5f5de")
            #expect(json["hostname"]?.string == "Cozify-HAN-123-456")
            #expect(json["cpu_reset_reason"]?.string == "RST_POWERON")
            #expect(resetReasons.contains(json["cpu_reset_reason"]?.string ?? ""))
            let free = try #require(json["free_heap_size"]?.integer)
            let minimum = try #require(json["minimum_free_heap_size"]?.integer)
            #expect(minimum <= free)
            let uptime = try #require(json["uptime_ms"]?.integer)
            #expect(uptime >= 0)
            try await eventually("a larger uptime_ms") {
                try await http.get("/health").json?["uptime_ms"]?.integer ?? 0 > uptime
            }
        }
    }

    @Test("GET /scan-networks: X-Scan-Start gives SCAN_RUNNING, later SCAN_SUCCESS with networks")
    func scanNetworks() async throws {
        try await withHAN(.test(scanDuration: .milliseconds(100))) { _, http in
            let started = try await http.get("/scan-networks", headers: ["X-Scan-Start": "1"])
            #expect(started.status == 200)
            #expect(started.json == .object(["status": .string("SCAN_RUNNING")]))

            try await eventually("SCAN_SUCCESS") { try await http.get("/scan-networks").json?["status"]?.string == "SCAN_SUCCESS" }
            let done = try #require(try await http.get("/scan-networks").json)
            #expect(done.keys == ["status", "networks"])
            let networks = try #require(done["networks"]?.array)
            #expect(!networks.isEmpty)
            for network in networks {
                #expect(network.keys == ["ssid", "bssid", "rssi", "channel", "auth"])
                #expect(network["ssid"]?.string != nil && network["bssid"]?.string != nil)
                #expect(network["rssi"]?.integer != nil && network["channel"]?.integer != nil)
                #expect(wifiAuthTypes.contains(network["auth"]?.string ?? ""))
            }
            // A new X-Scan-Start starts over.
            let again = try await http.get("/scan-networks", headers: ["X-Scan-Start": "yes"])
            #expect(again.json?["status"]?.string == "SCAN_RUNNING")
        }
    }

    @Test("GET /scan-networks keeps answering SCAN_RUNNING while the scan runs")
    func scanStillRunning() async throws {
        try await withHAN(.test(scanDuration: .seconds(3_600))) { _, http in
            let started = try await http.get("/scan-networks", headers: ["X-Scan-Start": "1"])
            #expect(started.json?["status"]?.string == "SCAN_RUNNING")
            let polled = try await http.get("/scan-networks")
            #expect(polled.json == .object(["status": .string("SCAN_RUNNING")]))
        }
    }

    @Test("the scanFails quirk ends the next scan in SCAN_FAILED without networks")
    func scanFails() async throws {
        try await withHAN(.test(scanDuration: .zero)) { simulator, http in
            simulator.faults.enable(.scanFails, times: 1)
            let started = try await http.get("/scan-networks", headers: ["X-Scan-Start": "1"])
            #expect(started.json?["status"]?.string == "SCAN_RUNNING")
            let failed = try await http.get("/scan-networks")
            #expect(failed.status == 200)
            #expect(failed.json == .object(["status": .string("SCAN_FAILED")]))

            // The quirk was for one scan only: the next one succeeds.
            _ = try await http.get("/scan-networks", headers: ["X-Scan-Start": "1"])
            #expect(try await http.get("/scan-networks").json?["status"]?.string == "SCAN_SUCCESS")
        }
    }

    @Test("/ws without an upgrade is a bad request; unknown paths are 404")
    func nonUpgradeAndUnknown() async throws {
        try await withHAN { _, http in
            let plainWebSocket = try await http.get("/ws")
            #expect(plainWebSocket.status == 400)
            #expect(plainWebSocket.json?["success"]?.bool == false)
            let unknown = try await http.get("/nope")
            #expect(unknown.status == 404)
        }
    }

    @Test("the looseContentType quirk sends JSON as text/html")
    func looseContentType() async throws {
        try await withHAN(.test(quirks: [.looseContentType])) { _, http in
            let result = try await http.get("/han")
            #expect(result.headers["content-type"] == "text/html")
            #expect(result.json?["type"]?.string == "HAN_STATE_MESSAGE")
        }
    }
}
