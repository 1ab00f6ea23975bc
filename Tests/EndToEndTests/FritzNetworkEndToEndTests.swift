import Foundation
import Mosquitto
import Simulators
import Testing
import TestSupport

/// Mosquitto + the Fritz!Box network simulator + the real executable, driven only through MQTT.
///
/// The bridge runs on the real clock, so its polls come every 31 s (the schedule derived from
/// 10 requests a minute). Every wait below waits for an event (a message, a request in the
/// simulator's log) with a generous timeout that only guards against a hang; no verdict depends
/// on how long something took, except the 429 backoff, whose lower bound (≥ 60 s between the 429
/// and the next request) the bridge guarantees whatever the load.
@Suite("Fritz!Box network end to end", .serialized)
struct FritzNetworkEndToEndTests {
    /// A network without random comings and goings: only the test moves clients.
    static let steadyNetwork = FritzNetworkClient.defaultNetwork.map { client -> FritzNetworkClient in
        var steady = client
        steady.isMobile = false
        return steady
    }

    /// A client the tests send away and back: the NAS.
    static let nas = "AA:BB:CC:DD:EE:10"
    static let nasTopic = "api2mqtt/router_aa_bb_cc_dd_ee_10"

    /// Generous guard against a hang: several poll rounds of 31 s on a loaded machine.
    static let guardTime: Duration = .seconds(240)

    func withBridge(
        _ configuration: FritzNetworkSimulator.Configuration = .init(clients: steadyNetwork),
        credentials: String = "api_key: \(FritzNetworkSimulator.demoAPIKey)",
        _ body: @Sendable (FritzNetworkSimulator, MQTTProbe) async throws -> Void
    ) async throws {
        let simulator = FritzNetworkSimulator(configuration: configuration)
        let port = try await simulator.start()
        do {
            try await MosquittoBroker.with { broker in
                let bridge = try BridgeProcess.start(
                    yaml: bridgeYAML(
                        broker: broker,
                        extra: """
                            sources:
                              - id: router
                                type: fritz_network
                                name: Router
                                url: http://127.0.0.1:\(port)
                                \(credentials)
                                requests_per_minute: 10
                                away_after: 10s
                            """))
                defer { bridge.stopAndRemoveFiles() }
                do {
                    try await MQTTProbe.with(broker) { probe in
                        try await probe.subscribe("api2mqtt/#")
                        try await probe.subscribe("homeassistant/#")
                        try await body(simulator, probe)
                    }
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
        // Whatever the test did: never more than the budget in any rolling minute at the server.
        #expect(simulator.maxRequests(inAnyWindow: .seconds(60), realTime: true) <= 10)
    }

    /// Waits until the simulator's request log satisfies `condition`; throws after `timeout` (a hang guard).
    static func waitForRequests(
        _ simulator: FritzNetworkSimulator, timeout: Duration = guardTime,
        _ condition: ([FritzNetworkRequestRecord]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(simulator.apiRequests) {
            guard ContinuousClock.now < deadline else { throw TestSupportError("the simulator never saw the expected requests") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The presence a tracker's state message carries.
    static func presence(_ message: MQTTMessage) -> String? { (try? json(message))?["presence"] as? String }

    @Test("WAN, bandwidth and client values reach MQTT with discovery; a command gets one not_supported result and sends nothing")
    func values() async throws {
        try await withBridge { simulator, probe in
            let wan = try json(
                try await probe.first(
                    on: "api2mqtt/router", timeout: Self.guardTime,
                    where: { message in
                        guard let values = try? json(message) else { return false }
                        return values["external_ip"] != nil && values["bytes_received"] != nil && values["devices_online"] != nil
                    }))
            let served = try #require(simulator.state.cache)
            #expect(wan["external_ip"] as? String == served.wan.externalIP)
            #expect(wan["wan_connected"] as? Bool == true)
            #expect(wan["data_stale"] as? Bool == false)
            #expect(wan["link_downstream"] as? Double == (Double(served.wan.maxDownstream) / 1e6 * 10).rounded() / 10)
            #expect(wan["devices_total"] as? Double == 12)
            #expect(wan["devices_online"] as? Double == Double(Self.steadyNetwork.filter(\.isOnline).count))
            _ = try await probe.first(on: "api2mqtt/router/availability", payload: "online", timeout: Self.guardTime)

            let bytes = try json(try await probe.first(on: "homeassistant/sensor/router/bytes_received/config"))
            #expect(bytes["unit_of_measurement"] as? String == "GB")
            #expect(bytes["state_class"] as? String == "total_increasing")
            #expect(bytes["device_class"] as? String == "data_size")

            // One tracker per client, the name shown, never in a topic; IP and MAC as attributes.
            let evil = "api2mqtt/router_aa_bb_cc_dd_ee_50"
            _ = try await probe.first(on: evil, timeout: Self.guardTime, where: { Self.presence($0) == "home" })
            let tracker = try json(try await probe.first(on: "homeassistant/device_tracker/router_aa_bb_cc_dd_ee_50/presence/config"))
            #expect(tracker["source_type"] as? String == "router")
            #expect((tracker["device"] as? [String: Any])?["name"] as? String == #"evil/#+ "quoted""#)
            let attributes = try json(try await probe.first(on: "\(evil)/presence/attributes", timeout: Self.guardTime))
            #expect(attributes["ip"] as? String == "192.168.178.50")
            #expect(attributes["mac"] as? String == "AA:BB:CC:DD:EE:50")
            for message in probe.messages {
                #expect(!message.topic.contains("evil") && !message.topic.contains("\""), "\(message.topic)")
            }

            // The budget left is in bridge/sources.
            let sources = try await probe.first(
                on: "api2mqtt/bridge/sources", timeout: Self.guardTime,
                where: { ((try? json($0))?["router"] as? [String: Any])?["rate_budget_left"] != nil })
            let left = try #require(((try json(sources))["router"] as? [String: Any])?["rate_budget_left"] as? Double)
            #expect((0...10).contains(left))

            // Read-only: a command gets one not_supported result and no request goes out.
            let before = simulator.apiRequests.count { $0.method != "GET" }
            try await probe.client.publish("api2mqtt/router/wan_connected/set", string: #"{"value":"OFF","transaction":"t1"}"#, qos: .atLeastOnce)
            let result = try json(try await probe.next(on: "api2mqtt/router/result", timeout: Self.guardTime))
            #expect(result["status"] as? String == "error", "\(result)")
            #expect(["not_supported", "read_only"].contains(result["error_code"] as? String ?? ""), "\(result)")
            try await Task.sleep(for: .seconds(1))
            #expect(probe.messages(on: "api2mqtt/router/result").count == 1)
            #expect(simulator.apiRequests.count { $0.method != "GET" } == before)
        }
    }

    @Test("a client leaving turns not_home after away_after, coming back turns home")
    func clientLeavesAndReturns() async throws {
        try await withBridge { simulator, probe in
            _ = try await probe.first(on: Self.nasTopic, timeout: Self.guardTime, where: { Self.presence($0) == "home" })
            #expect(simulator.setClient(Self.nas, online: false))
            simulator.refreshNow()
            _ = try await probe.first(on: Self.nasTopic, timeout: Self.guardTime, where: { Self.presence($0) == "not_home" })
            // Others stay home.
            #expect(probe.messages(on: "api2mqtt/router_aa_bb_cc_dd_ee_11").allSatisfy { Self.presence($0) != "not_home" })

            let away = probe.messages(on: Self.nasTopic).count
            #expect(simulator.setClient(Self.nas, online: true))
            simulator.refreshNow()
            _ = try await probe.first(
                on: Self.nasTopic, timeout: Self.guardTime,
                where: { _ in probe.messages(on: Self.nasTopic).dropFirst(away).contains { Self.presence($0) == "home" } })
        }
    }

    @Test("the router unreachable: data_stale on, no tracker flips to not_home; reachable again: fresh")
    func routerUnreachable() async throws {
        try await withBridge { simulator, probe in
            _ = try await probe.first(on: Self.nasTopic, timeout: Self.guardTime, where: { Self.presence($0) == "home" })
            // The clients home before the outage (the iPad starts offline: not_home from the start).
            let home = Set(
                probe.messages.filter { $0.topic.hasPrefix("api2mqtt/router_") && Self.presence($0) == "home" }.map(\.topic))
            #expect(home.count == Self.steadyNetwork.filter(\.isOnline).count)
            let seen = probe.messages.count
            simulator.setRouterReachable(false)
            _ = try await probe.first(
                on: "api2mqtt/router", timeout: Self.guardTime, where: { (try? json($0))?["data_stale"] as? Bool == true })
            // Two devices polls answered 503 (well past away_after of 10 s): still nobody away.
            let failedBefore = simulator.apiRequests.count { $0.path.hasSuffix("/devices") && $0.status == 503 }
            try await Self.waitForRequests(simulator) { records in
                records.count { $0.path.hasSuffix("/devices") && $0.status == 503 } >= failedBefore + 2
            }
            simulator.setRouterReachable(true)
            simulator.refreshNow()
            _ = try await probe.first(
                on: "api2mqtt/router", timeout: Self.guardTime,
                where: { _ in (probe.messages(on: "api2mqtt/router").last.flatMap { try? json($0) })?["data_stale"] as? Bool == false })
            // A fresh devices document after the outage: still everyone home.
            let fresh = simulator.apiRequests.count { $0.path.hasSuffix("/devices") && $0.status == 200 }
            try await Self.waitForRequests(simulator) { records in
                records.count { $0.path.hasSuffix("/devices") && $0.status == 200 } > fresh
            }
            try await Task.sleep(for: .seconds(1))
            let notHome = probe.messages.dropFirst(seen).filter { home.contains($0.topic) && Self.presence($0) == "not_home" }
            #expect(notHome.map(\.topic) == [])
        }
    }

    @Test("the server down marks the device offline, and online again when it returns")
    func serverDown() async throws {
        try await withBridge { simulator, probe in
            _ = try await probe.first(on: Self.nasTopic, timeout: Self.guardTime, where: { Self.presence($0) == "home" })
            _ = try await probe.first(on: "api2mqtt/router/availability", payload: "online", timeout: Self.guardTime)
            let seen = probe.messages.count
            // A graceful stop: the server is gone (connections refused) all the same. `stopAbruptly()`
            // cancels the serving task, and a connection the bridge opens in that instant traps in
            // NIO ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#3481).
            await simulator.stop()
            _ = try await probe.first(on: "api2mqtt/router/availability", payload: "offline", timeout: Self.guardTime)
            let offlineAt = probe.messages(on: "api2mqtt/router/availability").count
            try await simulator.start()
            _ = try await probe.first(
                on: "api2mqtt/router/availability", timeout: Self.guardTime,
                where: { _ in
                    probe.messages(on: "api2mqtt/router/availability").dropFirst(offlineAt).contains { $0.payloadString == "online" }
                })
            // No tracker went away because the server was down.
            let notHome = probe.messages.dropFirst(seen).filter { $0.topic == Self.nasTopic && Self.presence($0) == "not_home" }
            #expect(notHome.map(\.topic) == [])
        }
    }

    @Test("a forced 429 keeps the bridge quiet for at least 60 s, then values flow again")
    func rateLimited() async throws {
        var plain = FritzNetworkSimulator.Configuration(clients: Self.steadyNetwork)
        plain.quirks = [.plainRateLimitError]  // {"error": "Rate limit exceeded"}, no Retry-After
        try await withBridge(plain) { simulator, probe in
            _ = try await probe.first(
                on: "api2mqtt/router", timeout: Self.guardTime, where: { (try? json($0))?["external_ip"] != nil })
            simulator.forceRateLimit(times: 1)
            try await Self.waitForRequests(simulator) { records in records.contains { $0.status == 429 } }
            let limited = try #require(simulator.apiRequests.first { $0.status == 429 })
            // The live endpoints are polled together: up to two sibling requests of the same round
            // were already on the wire when the 429 came back, and arrive just after it.
            let siblingWindow: Duration = .seconds(5)
            try await Self.waitForRequests(simulator) { records in
                records.contains { limited.received.duration(to: $0.received) > siblingWindow }
            }
            let after = simulator.apiRequests.filter { $0.received > limited.received }
            let siblings = after.filter { limited.received.duration(to: $0.received) <= siblingWindow }
            #expect(siblings.count <= 2, "\(siblings.map(\.path))")
            #expect(Set(siblings.map(\.path) + [limited.path]).count == siblings.count + 1, "siblings are other endpoints, no retry")
            let next = try #require(after.first { limited.received.duration(to: $0.received) > siblingWindow })
            let gap = limited.received.duration(to: next.received)
            #expect(gap >= .seconds(60), "next request \(gap) after the 429")
            // Recovery: new values after the backoff.
            let before = probe.messages(on: "api2mqtt/router").count
            _ = try await probe.first(
                on: "api2mqtt/router", timeout: Self.guardTime,
                where: { _ in probe.messages(on: "api2mqtt/router").count > before })
        }
    }

    @Test("a router reboot resets the byte counters at the server; MQTT never sees them go down (a withheld glitch until the reset persists)")
    func routerReboot() async throws {
        try await withBridge { simulator, probe in
            func received() -> [Double] {
                probe.messages(on: "api2mqtt/router").compactMap { (try? json($0))?["bytes_received"] as? Double }
            }
            _ = try await probe.first(
                on: "api2mqtt/router", timeout: Self.guardTime, where: { (try? json($0))?["bytes_received"] != nil })
            let before = try #require(received().last)
            #expect(before > 0)
            simulator.rebootRouter()
            simulator.refreshNow()
            let served = try #require(simulator.state.cache).wan.bytesReceived
            #expect(Double(served) / 1e9 < before, "the server serves the reset counter")
            // Two bandwidth documents read after the reboot.
            let rebootedAt = ContinuousClock.now
            try await Self.waitForRequests(simulator) { records in
                records.count { $0.path.hasSuffix("/bandwidth") && $0.status == 200 && $0.received > rebootedAt } >= 2
            }
            try await Task.sleep(for: .seconds(1))
            let published = received()
            #expect(zip(published, published.dropFirst()).allSatisfy { $0 <= $1 }, "\(published)")
        }
    }

    @Test("150 extra clients (pages of 100, JWT login) are all tracked within the budget")
    func paging() async throws {
        var large = FritzNetworkSimulator.Configuration(clients: Self.steadyNetwork + FritzNetworkClient.extra(150))
        large.maxPageSize = 100
        try await withBridge(large, credentials: "username: admin\n    password: fritz-secret") { simulator, probe in
            let total = 162
            let deadline = ContinuousClock.now + Self.guardTime
            func trackers() -> Set<String> {
                Set(probe.messages.filter { $0.topic.hasPrefix("homeassistant/device_tracker/router_") }.map(\.topic))
            }
            while trackers().count < total {
                guard ContinuousClock.now < deadline else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(trackers().count == total)
            let state = try json(
                try await probe.first(
                    on: "api2mqtt/router", timeout: Self.guardTime, where: { (try? json($0))?["devices_total"] != nil }))
            #expect(state["devices_total"] as? Double == Double(total))
            // Pages really were used, and no request was refused.
            #expect(simulator.apiRequests.contains { $0.path.hasSuffix("/devices") && $0.query.contains("offset=100") })
            #expect(!simulator.apiRequests.contains { $0.status == 429 })
            #expect(simulator.state.logins >= 1)
        }
    }
}
