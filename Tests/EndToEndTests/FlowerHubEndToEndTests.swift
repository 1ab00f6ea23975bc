import Foundation
import Mosquitto
import Simulators
import Testing
import TestSupport

/// Mosquitto + the FlowerHub portal simulator + the real executable, driven only through MQTT.
///
/// The simulator does not tick by itself (`tickInterval: nil`): its clock, and with it the cookie
/// lifetimes, stand still unless a test moves them, so every expiry here is one a test caused.
/// Each test changes the battery system's status after a hook and waits for the bridge to publish
/// it: that proves the bridge read `/asset` after the hook, and the portal's counters then say how.
@Suite("FlowerHub end to end", .serialized)
struct FlowerHubEndToEndTests {
    static let state = "api2mqtt/battery"
    static let availability = "api2mqtt/battery/availability"
    /// Only guards against hangs; no verdict depends on it.
    static let hang: Duration = .seconds(60)

    func withBridge(
        _ configuration: FlowerHubSimulator.Configuration = .init(tickInterval: nil),
        _ body: @Sendable (FlowerHubSimulator, MQTTProbe) async throws -> Void
    ) async throws {
        let simulator = FlowerHubSimulator(configuration: configuration)
        simulator.forceStatus(.connected)
        // Six hours into the portal's day: this month's consumption is above 0 (a counter at 0
        // is held back by the bridge's glitch filter until it grows).
        simulator.advance(by: .seconds(6 * 3600))
        let port = try await simulator.start()
        let account = configuration.account
        do {
            try await MosquittoBroker.with { broker in
                let bridge = try BridgeProcess.start(
                    yaml: bridgeYAML(
                        broker: broker,
                        extra: """
                            sources:
                              - id: battery
                                type: flowerhub
                                name: Home battery
                                url: http://127.0.0.1:\(port)
                                username: \(account.username)
                                password: \(account.password)
                                poll_interval: 1s
                            """))
                defer { bridge.stopAndRemoveFiles() }
                do {
                    try await MQTTProbe.with(broker) { probe in
                        try await probe.subscribe("api2mqtt/#")
                        try await probe.subscribe("homeassistant/#")
                        do {
                            try await body(simulator, probe)
                        } catch {
                            Issue.record("last state: \(probe.messages(on: Self.state).last?.payloadString ?? "none")")
                            throw error
                        }
                    }
                    // The password never reaches the log (the bridge logs at debug level here).
                    #expect(!bridge.log.contains(account.password))
                } catch {
                    let tail = bridge.log.split(separator: "\n").suffix(40).joined(separator: "\n")
                    Issue.record("bridge log (last 40 lines):\n\(tail)")
                    throw error
                }
            }
            await simulator.stop()
        } catch {
            await simulator.stop()
            throw error
        }
    }

    /// Waits until the bridge publishes `connected` = `value` in a state message that arrived after
    /// `after` state messages.
    static func waitForConnected(_ value: Bool, after: Int, probe: MQTTProbe) async throws {
        _ = try await probe.first(
            on: state, timeout: hang,
            where: { _ in
                // By position, not by equality: a state can repeat an earlier one byte for byte.
                probe.messages(on: state).dropFirst(after).contains { (try? json($0))?["connected"] as? Bool == value }
            })
    }

    /// Flips the battery system's status and waits until the bridge has published the new value:
    /// proof that it read `/asset` after everything the test did before.
    static func roundTrip(_ simulator: FlowerHubSimulator, probe: MQTTProbe) async throws {
        let connected = simulator.state.status == "Connected"
        let after = probe.messages(on: state).count
        simulator.forceStatus(connected ? .disconnected : .connected)
        try await waitForConnected(!connected, after: after, probe: probe)
    }

    /// Online, with the battery's status published.
    static func waitForStart(_ probe: MQTTProbe) async throws {
        _ = try await probe.first(on: availability, payload: "online", timeout: hang)
        try await waitForConnected(true, after: 0, probe: probe)
    }

    @Test("the portal's values reach api2mqtt/battery in the mapping's units, with the device identity and discovery")
    func values() async throws {
        try await withBridge { simulator, probe in
            let message = try await probe.first(
                on: Self.state, timeout: Self.hang,
                where: { message in
                    guard let values = try? json(message) else { return false }
                    return ["connected", "battery_capacity", "uptime_month", "consumption_month", "invoice_amount", "agreement_consumption"]
                        .allSatisfy { values[$0] != nil }
                })
            let values = try json(message)
            let portal = simulator.state
            #expect(values["connected"] as? Bool == true)
            #expect(values["status"] as? String == "Connected")
            #expect(values["status_message"] as? String == portal.statusMessage)
            #expect(values["battery_capacity"] as? Double == 12.8)
            #expect(values["inverter_power"] as? Double == 10)
            #expect(values["fuse_size"] as? Double == 20)
            #expect(values["consumption_month"] as? Double == (portal.consumption * 100).rounded() / 100)
            #expect(values["uptime_month"] as? Double == (portal.uptimePercent * 10).rounded() / 10)
            let invoice = try #require(portal.latestInvoiceAmount.flatMap(Double.init))
            #expect(values["invoice_amount"] as? Double == invoice)
            #expect(values["agreement_consumption"] as? String == "Active")
            _ = try await probe.first(on: Self.availability, payload: "online", timeout: Self.hang)

            let consumption = try json(try await probe.first(on: "homeassistant/sensor/battery/consumption_month/config", timeout: Self.hang))
            #expect(consumption["state_class"] as? String == "total_increasing")
            #expect(consumption["unit_of_measurement"] as? String == "kWh")
            #expect(consumption["device_class"] as? String == "energy")
            let amount = try json(try await probe.first(on: "homeassistant/sensor/battery/invoice_amount/config", timeout: Self.hang))
            #expect(amount["unit_of_measurement"] as? String == "SEK")
            let connectivity = try await probe.first(
                on: "homeassistant/binary_sensor/battery/connected/config", timeout: Self.hang,
                where: { ((try? json($0))?["device"] as? [String: Any])?["serial_number"] != nil })
            let device = try #require(try json(connectivity)["device"] as? [String: Any])
            #expect(device["serial_number"] as? String == simulator.configuration.account.serialNumber)
            #expect(device["manufacturer"] as? String == "Flower")
            #expect(device["model"] as? String == "FlowerHub Home 10")
            #expect(device["configuration_url"] as? String == simulator.baseURL)

            // The status follows the portal both ways.
            try await Self.roundTrip(simulator, probe: probe)
            try await Self.roundTrip(simulator, probe: probe)
            // One login for the whole run; no personal data on the source's topics or in discovery
            // (bridge/info shows the configuration, with the username and the password masked).
            #expect(simulator.state.logins == 1)
            let published = probe.messages
                .filter { $0.topic.hasPrefix(Self.state) || $0.topic.hasPrefix("homeassistant/") }
                .map(\.payloadString).joined(separator: "\n")
            #expect(!published.isEmpty)
            #expect(!published.contains(simulator.configuration.account.username))
            #expect(!published.contains(simulator.configuration.account.lastName))
        }
    }

    @Test("the portal is read-only: a command gets one error result and no request reaches the portal")
    func readOnly() async throws {
        try await withBridge { simulator, probe in
            try await Self.waitForStart(probe)
            try await probe.client.publish("api2mqtt/battery/connected/set", string: #"{"value":"OFF","transaction":"t1"}"#, qos: .atLeastOnce)
            let result = try json(try await probe.next(on: "api2mqtt/battery/result", timeout: Self.hang))
            #expect(result["status"] as? String == "error", "\(result)")
            #expect(result["error_code"] as? String == "not_supported", "a read-only API: \(result)")
            #expect(result["transaction"] as? String == "t1")
            // Polls go on after the command; still exactly one result, and only GETs and the login.
            try await Self.roundTrip(simulator, probe: probe)
            #expect(probe.messages(on: "api2mqtt/battery/result").count == 1)
            let writes = simulator.requests.all.filter { $0.method != "GET" && !($0.method == "POST" && $0.path == "/auth/login") }
            #expect(writes.isEmpty, "\(writes.map { "\($0.method) \($0.path)" })")
        }
    }

    @Test("the access cookie expiring costs one refresh and no login")
    func accessCookieExpires() async throws {
        try await withBridge { simulator, probe in
            try await Self.waitForStart(probe)
            let before = simulator.state
            simulator.expireAccessCookies()
            try await Self.roundTrip(simulator, probe: probe)
            let after = simulator.state
            #expect(after.refreshes == before.refreshes + 1)
            #expect(after.logins == before.logins)
            #expect(after.failedRefreshes == before.failedRefreshes)
            #expect(after.unauthorizedRequests > before.unauthorizedRequests)
            #expect(!probe.messages(on: Self.availability).contains { $0.payloadString == "offline" })
        }
    }

    @Test("the refresh cookie expiring too costs one login (after one refused refresh)")
    func refreshCookieExpires() async throws {
        try await withBridge { simulator, probe in
            try await Self.waitForStart(probe)
            let before = simulator.state
            simulator.expireSession()
            try await Self.roundTrip(simulator, probe: probe)
            let after = simulator.state
            #expect(after.logins == before.logins + 1)
            #expect(after.failedRefreshes == before.failedRefreshes + 1)
            #expect(after.refreshes == before.refreshes)
            #expect(after.failedLogins == 0)
            #expect(!probe.messages(on: Self.availability).contains { $0.payloadString == "offline" })
        }
    }

    @Test("several expiries over a run: logins stay bounded by the session expiries, availability stays online")
    func severalExpiries() async throws {
        try await withBridge { simulator, probe in
            try await Self.waitForStart(probe)
            let before = simulator.state
            for round in 0..<6 {
                if round % 3 == 2 {
                    simulator.expireSession()
                } else {
                    simulator.expireAccessCookies()
                }
                try await Self.roundTrip(simulator, probe: probe)
            }
            // An hour of portal time: the access cookie (15 minutes) runs out on its own too.
            simulator.advance(by: .seconds(3600))
            try await Self.roundTrip(simulator, probe: probe)
            let after = simulator.state
            #expect(after.logins == before.logins + 2, "one login per expired session")
            #expect(after.refreshes == before.refreshes + 5, "one refresh per expired access cookie")
            #expect(after.failedLogins == 0)
            let availability = probe.messages(on: Self.availability).map(\.payloadString)
            #expect(!availability.contains("offline"), "\(availability)")
        }
    }

    @Test("ETags: 304 answers keep the values and a changed document still arrives; without ETags all the same")
    func notModified() async throws {
        try await withBridge { simulator, probe in
            try await Self.waitForStart(probe)
            try await eventually(timeout: Self.hang) { simulator.state.notModifiedResponses >= 3 }
            // The bridge still sees each change behind the ETags.
            try await Self.roundTrip(simulator, probe: probe)
            try await Self.roundTrip(simulator, probe: probe)
            // A portal without ETags (the real one): no 304, values as before.
            simulator.faults.enable(.noETags)
            let notModified = simulator.state.notModifiedResponses
            try await Self.roundTrip(simulator, probe: probe)
            try await Self.roundTrip(simulator, probe: probe)
            #expect(simulator.state.notModifiedResponses == notModified)
            let latest = try #require(probe.messages(on: Self.state).last)
            #expect(try json(latest)["battery_capacity"] as? Double == 12.8)
            #expect(!probe.messages(on: Self.availability).contains { $0.payloadString == "offline" })
        }
    }

    @Test("429 with Retry-After: the bridge waits it out (only requests already under way land inside it) and stays online")
    func rateLimited() async throws {
        try await withBridge { simulator, probe in
            try await Self.waitForStart(probe)
            simulator.rateLimit(for: .seconds(10))
            try await eventually(timeout: Self.hang) { simulator.state.rateLimitedResponses >= 1 }
            let limitedAt = probe.messages(on: Self.state).count
            // Values flow again after the pause.
            simulator.forceStatus(.disconnected)
            try await Self.waitForConnected(false, after: limitedAt, probe: probe)
            let portal = simulator.state
            // With a poll every second, a bridge ignoring Retry-After would send about 20 requests
            // into the 10 s window; the only ones allowed are those sent before the 429 came back,
            // at most one per poll schedule (nine).
            #expect(portal.requestsWhileRateLimited <= 9, "\(portal.requestsWhileRateLimited) requests inside Retry-After")
            #expect(portal.rateLimitedResponses == 1 + portal.requestsWhileRateLimited)
            #expect(!probe.messages(on: Self.availability).contains { $0.payloadString == "offline" })
        }
    }

    @Test("the portal down marks the source offline, and online again when it returns")
    func portalDown() async throws {
        try await withBridge { simulator, probe in
            try await Self.waitForStart(probe)
            await simulator.stopAbruptly()
            _ = try await probe.first(on: Self.availability, payload: "offline", timeout: Self.hang)
            let offlineAt = probe.messages(on: Self.availability).count
            let statesAt = probe.messages(on: Self.state).count
            simulator.forceStatus(.disconnected)
            try await simulator.start()
            _ = try await probe.first(
                on: Self.availability, timeout: Self.hang,
                where: { _ in probe.messages(on: Self.availability).dropFirst(offlineAt).contains { $0.payloadString == "online" } })
            // Values flow again, read after the return.
            try await Self.waitForConnected(false, after: statesAt, probe: probe)
        }
    }

    @Test("the real portal's behaviour (FIELD-NOTES quirks): Origin required, uptime only under /asset-effective-uptime, no ETags, both refresh shapes, periodic 429s")
    func realPortal() async throws {
        var configuration = FlowerHubSimulator.Configuration(tickInterval: nil, quirks: FlowerHubSimulator.realPortalQuirks)
        configuration.rateLimitEvery = 40
        configuration.rateLimitRetryAfter = .seconds(2)
        try await withBridge(configuration) { simulator, probe in
            _ = try await probe.first(
                on: Self.state, timeout: Self.hang,
                where: { message in
                    guard let values = try? json(message) else { return false }
                    return ["connected", "uptime_month", "uptime_hours", "consumption_month", "invoice_amount"].allSatisfy { values[$0] != nil }
                })
            // Two refreshes: the portal answers them in its two shapes, and both keep the session.
            for _ in 0..<2 {
                simulator.expireAccessCookies()
                try await Self.roundTrip(simulator, probe: probe)
            }
            let portal = simulator.state
            #expect(portal.logins == 1)
            #expect(portal.refreshes == 2)
            #expect(portal.notModifiedResponses == 0)
            #expect(portal.requestsWhileRateLimited <= 9)
            // Uptime came from the newer paths; every request carried the portal's Origin.
            #expect(simulator.requests.count(path: "/asset-effective-uptime/bar-chart/history/5678") >= 1)
            let withoutOrigin = simulator.requests.all.filter { $0.headers["origin"] != FlowerHubSimulator.portalOrigin }
            #expect(withoutOrigin.isEmpty, "\(withoutOrigin.map(\.path))")
            #expect(!probe.messages(on: Self.availability).contains { $0.payloadString == "offline" })
        }
    }
}
