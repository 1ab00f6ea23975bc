import Foundation
import Mosquitto
import Simulators
import Testing
import TestSupport

/// Two bridge processes on one broker and one discovery prefix (issue #17, item 5; design.md
/// "Scale-out"): A reads the Cozify HAN reader, B the TinyBMS gateway, with distinct client ids.
/// Waits are for the awaited message or log line itself; timeouts only guard against hangs.
@Suite("Two instances on one broker", .serialized)
struct TwoInstancesEndToEndTests {
    /// One instance's configuration.
    static func yaml(_ broker: MosquittoBroker, client: String, base: String?, source: String) -> String {
        """
        mqtt:
          url: \(broker.url)
          client_id: \(client)
        \(base.map { "  base_topic: \($0)" } ?? "")
        log:
          level: debug
        http:
          enabled: false
        sources:
        \(source)
        """
    }

    static func han(_ port: Int) -> String {
        "  - { id: han, type: cozify_han, name: HAN reader, url: 'http://127.0.0.1:\(port)', poll_interval: 2s }"
    }

    static func bms(_ port: Int) -> String {
        "  - { id: bms, type: tinybms, name: Battery BMS, url: 'http://127.0.0.1:\(port)', poll_interval: 2s, timeout: 2s }"
    }

    /// Every retained message under `filters` now: a fresh client subscribes, then waits for a
    /// marker it publishes itself (the broker sends a subscription's retained messages before it
    /// handles the client's next packet), so nothing is missed and nothing is waited for by time.
    static func retained(_ broker: MosquittoBroker, _ filters: [String]) async throws -> [String: String] {
        try await MQTTProbe.with(broker) { probe in
            for filter in filters { try await probe.subscribe(filter) }
            let marker = "test/marker/\(UUID().uuidString)"
            try await probe.subscribe(marker)
            try await probe.client.publish(marker, string: "x", qos: .atLeastOnce)
            _ = try await probe.next(on: marker, timeout: .seconds(20))
            var retained: [String: String] = [:]
            for message in probe.messages where message.retain && message.topic != marker {
                retained[message.topic] = message.payloadString
            }
            return retained
        }
    }

    /// The discovery entries one instance owns (their first availability topic is its bridge state).
    static func discovery(of base: String, in retained: [String: String]) -> [String: String] {
        retained.filter { topic, payload in
            guard topic.hasPrefix("homeassistant/"), !payload.isEmpty,
                let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
                let availability = object["availability"] as? [[String: Any]]
            else { return false }
            return availability.first?["topic"] as? String == "\(base)/bridge/state"
        }
    }

    /// Starts an instance and waits until its source's discovery is out and its stale-discovery
    /// check has run (the point where it would have removed anything). The device's `online`
    /// must be one this run sent: on a restart the probe already holds the previous run's.
    static func start(_ yaml: String, base: String, device: String, probe: MQTTProbe) async throws -> BridgeProcess {
        let availability = "\(base)/\(device)/availability"
        let earlier = probe.messages(on: availability).count
        let bridge = try BridgeProcess.start(yaml: yaml)
        do {
            try await eventually(timeout: .seconds(30)) {
                probe.messages(on: availability).dropFirst(earlier).contains { $0.payloadString == "online" }
            }
            try await eventually(timeout: .seconds(30)) {
                bridge.log.contains("Stale discovery check done") || bridge.log.contains("Removed no stale discovery")
            }
        } catch {
            Issue.record("log of the instance on \(base):\n\(bridge.log.split(separator: "\n").suffix(30).joined(separator: "\n"))")
            throw error
        }
        return bridge
    }

    /// The entries of `before` missing or changed in `after` (an instance may add entries as data
    /// arrives), one line each, with what it was and what it is now; "" when none is.
    static func damage(_ before: [String: String], _ after: [String: String]) -> String {
        before.filter { after[$0.key] != $0.value }.map { topic, payload in
            guard let now = after[topic] else { return "\(topic) missing (was \(payload))" }
            return "\(topic) changed from \(payload) to \(now.isEmpty ? "empty" : now)"
        }.sorted().joined(separator: "\n")
    }

    /// Discovery topics of `entries` on which the probe ever saw an empty payload: an instance
    /// removed one of its own or the other's entities at some point (Home Assistant deletes the
    /// entity then, and creates it anew when the config comes back).
    static func removals(of entries: [String: String], seenBy probe: MQTTProbe) -> [String] {
        Set(probe.messages.filter { entries[$0.topic] != nil && $0.payload.isEmpty }.map(\.topic)).sorted()
    }

    static func stop(_ bridge: BridgeProcess) async {
        bridge.process.signal(SIGTERM)
        let status = await bridge.process.waitForExit(timeout: .seconds(10))
        #expect(status == 0)
    }

    /// Runs both simulators and a broker, with a probe on everything.
    func withWorld(_ body: @Sendable (MosquittoBroker, MQTTProbe, Int, Int) async throws -> Void) async throws {
        let han = CozifyHANSimulator(configuration: .init(telegramInterval: .milliseconds(500)))
        let bms = TinyBMSSimulator(configuration: .init(tickInterval: .milliseconds(500)))
        let hanPort = try await han.start()
        let bmsPort = try await bms.start()
        do {
            try await MosquittoBroker.with { broker in
                try await MQTTProbe.with(broker) { probe in
                    try await probe.subscribe("#")
                    try await body(broker, probe, hanPort, bmsPort)
                }
            }
            await han.stop()
            await bms.stop()
        } catch {
            await han.stop()
            await bms.stop()
            throw error
        }
    }

    @Test("distinct base topics: neither removes, overwrites or answers the other's entities or commands; B's restart does not restart A")
    func distinctBases() async throws {
        try await withWorld { broker, probe, hanPort, bmsPort in
            let yamlA = Self.yaml(broker, client: "bridge-a", base: nil, source: Self.han(hanPort))
            let yamlB = Self.yaml(broker, client: "bridge-b", base: "api2mqtt_b", source: Self.bms(bmsPort))
            var a = try await Self.start(yamlA, base: "api2mqtt", device: "han", probe: probe)
            defer { a.stopAndRemoveFiles() }
            let filters = ["homeassistant/#", "api2mqtt/#", "api2mqtt_b/#"]
            let aAlone = Self.discovery(of: "api2mqtt", in: try await Self.retained(broker, filters))
            #expect(aAlone["homeassistant/sensor/bridge/version/config"] != nil)
            #expect(aAlone.keys.contains { $0.hasPrefix("homeassistant/sensor/han/") })

            var b = try await Self.start(yamlB, base: "api2mqtt_b", device: "bms", probe: probe)
            defer { b.stopAndRemoveFiles() }
            var world = try await Self.retained(broker, filters)
            let bAlone = Self.discovery(of: "api2mqtt_b", in: world)
            // B's bridge device has discovery topics of its own; A's entries are all still there, unchanged.
            #expect(bAlone["homeassistant/sensor/api2mqtt_b_bridge/version/config"] != nil)
            #expect(bAlone.keys.contains { $0.hasPrefix("homeassistant/sensor/bms/") })
            #expect(Self.damage(aAlone, world).isEmpty, "A's discovery changed when B started:\n\(Self.damage(aAlone, world))")
            #expect(world["api2mqtt/bridge/state"] == "online" && world["api2mqtt_b/bridge/state"] == "online")

            // A command to A's device: exactly one result, from A (a sentinel after it orders the check).
            try await probe.client.publish("api2mqtt/han/fixed_price/set", string: #"{"value":0.2,"transaction":"a1"}"#, qos: .atLeastOnce)
            try await probe.client.publish("api2mqtt/han/fixed_price/set", string: #"{"value":0.3,"transaction":"a2"}"#, qos: .atLeastOnce)
            try await eventually(timeout: .seconds(30)) {
                probe.messages(on: "api2mqtt/han/result").contains { (try? json($0))?["transaction"] as? String == "a2" }
            }
            let results = try probe.messages(on: "api2mqtt/han/result").map(json)
            #expect(results.filter { $0["transaction"] as? String == "a1" }.map { $0["status"] as? String } == ["ok"])

            // B's restart button restarts B's sources only.
            try await probe.client.publish("api2mqtt_b/bridge/restart/set", string: #"{"value":"PRESS","transaction":"r1"}"#, qos: .atLeastOnce)
            let restart = try json(try await probe.next(on: "api2mqtt_b/bridge/result", timeout: .seconds(30)))
            #expect(restart["status"] as? String == "ok", "\(restart)")
            try await eventually { b.log.contains("Source restarting") }
            #expect(!a.log.contains("Source restarting"), "A restarted on B's button")
            #expect(probe.messages(on: "api2mqtt/bridge/result").isEmpty)

            // A restarts: B's entries stay. B restarts, then stops: A's stay, and A stays online.
            await Self.stop(a)
            // A took its two commands, nothing of B's.
            #expect(a.log.contains("Commands: 2 received, 2 answered (2 ok"), "\(a.log.split(separator: "\n").suffix(5))")
            a.stopAndRemoveFiles()
            a = try await Self.start(yamlA, base: "api2mqtt", device: "han", probe: probe)
            world = try await Self.retained(broker, filters)
            #expect(Self.damage(bAlone, world).isEmpty, "B's discovery changed when A restarted:\n\(Self.damage(bAlone, world))")
            #expect(Self.damage(aAlone, world).isEmpty, "A's discovery changed when A restarted:\n\(Self.damage(aAlone, world))")

            await Self.stop(b)
            // B took its restart press only, none of A's commands.
            #expect(b.log.contains("Commands: 1 received, 1 answered (1 ok"), "\(b.log.split(separator: "\n").suffix(5))")
            b.stopAndRemoveFiles()
            b = try await Self.start(yamlB, base: "api2mqtt_b", device: "bms", probe: probe)
            world = try await Self.retained(broker, filters)
            #expect(Self.damage(aAlone, world).isEmpty, "A's discovery changed when B restarted:\n\(Self.damage(aAlone, world))")
            #expect(Self.damage(bAlone, world).isEmpty, "B's discovery changed when B restarted:\n\(Self.damage(bAlone, world))")
            await Self.stop(b)
            world = try await Self.retained(broker, filters)
            #expect(Self.damage(aAlone, world).isEmpty, "A's discovery changed when B stopped:\n\(Self.damage(aAlone, world))")
            #expect(world["api2mqtt/bridge/state"] == "online" && world["api2mqtt_b/bridge/state"] == "offline")
            #expect(world["api2mqtt/han/availability"] == "online")
            #expect(!a.log.contains("Another bridge instance"))
            // No start, restart or stop removed an entity for a moment, not even its own (a
            // snapshot taken after the start may well miss a removal that was put back at once).
            #expect(Self.removals(of: aAlone.merging(bAlone) { first, _ in first }, seenBy: probe) == [])
            #expect(!a.log.contains("Removed stale discovery entries") && !b.log.contains("Removed stale discovery entries"))
        }
    }

    @Test("one base topic shared by mistake: both log it, neither removes the other's discovery or answers its commands")
    func sharedBase() async throws {
        try await withWorld { broker, probe, hanPort, bmsPort in
            let a = try await Self.start(
                Self.yaml(broker, client: "bridge-a", base: nil, source: Self.han(hanPort)), base: "api2mqtt", device: "han", probe: probe)
            defer { a.stopAndRemoveFiles() }
            let filters = ["homeassistant/#"]
            let hanEntries = Self.discovery(of: "api2mqtt", in: try await Self.retained(broker, filters)).filter {
                $0.key.contains("/han/")
            }
            #expect(!hanEntries.isEmpty)

            let b = try await Self.start(
                Self.yaml(broker, client: "bridge-b", base: nil, source: Self.bms(bmsPort)), base: "api2mqtt", device: "bms", probe: probe)
            defer { b.stopAndRemoveFiles() }
            #expect(b.log.contains("Another bridge instance publishes under this base topic"))
            #expect(b.log.contains("Removed no stale discovery"))
            try await eventually { a.log.contains("Another bridge instance publishes under this base topic") }
            let world = Self.discovery(of: "api2mqtt", in: try await Self.retained(broker, filters))
            #expect(Self.damage(hanEntries, world).isEmpty, "B removed or changed A's discovery:\n\(Self.damage(hanEntries, world))")

            // Each instance answers its own device's command; the other leaves it alone.
            try await probe.client.publish("api2mqtt/han/fixed_price/set", string: #"{"value":0.2,"transaction":"a1"}"#, qos: .atLeastOnce)
            try await probe.client.publish("api2mqtt/bms/restart_bms/set", string: #"{"value":"PRESS","transaction":"b1"}"#, qos: .atLeastOnce)
            try await probe.client.publish("api2mqtt/han/fixed_price/set", string: #"{"value":0.3,"transaction":"a2"}"#, qos: .atLeastOnce)
            try await probe.client.publish("api2mqtt/bms/restart_bms/set", string: #"{"value":"PRESS","transaction":"b2"}"#, qos: .atLeastOnce)
            try await eventually(timeout: .seconds(30)) {
                probe.messages(on: "api2mqtt/han/result").contains { (try? json($0))?["transaction"] as? String == "a2" }
                    && probe.messages(on: "api2mqtt/bms/result").contains { (try? json($0))?["transaction"] as? String == "b2" }
            }
            let han = try probe.messages(on: "api2mqtt/han/result").map(json).filter { $0["transaction"] as? String == "a1" }
            let bms = try probe.messages(on: "api2mqtt/bms/result").map(json).filter { $0["transaction"] as? String == "b1" }
            #expect(han.count == 1 && han.first?["status"] as? String == "ok", "\(han)")
            #expect(bms.count == 1 && bms.first?["error_code"] as? String != "unknown_device", "\(bms)")
            await Self.stop(b)
            await Self.stop(a)
            #expect(a.log.contains("2 left to another instance") && b.log.contains("2 left to another instance"))
        }
    }
}
