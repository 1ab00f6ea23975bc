import BridgeCore
import Foundation
import Mosquitto
import Simulators
import Testing
import TestSupport

/// The reader misbehaving as FIELD-NOTES says real ones do, seen only through MQTT.
extension CozifyHANEndToEndTests {
    @Test("the reader going down marks the device offline, and online again when it returns")
    func readerDown() async throws {
        try await withBridge { _, simulator, probe in
            _ = try await probe.first(on: "api2mqtt/han/availability", payload: "online", timeout: .seconds(20))
            await simulator.stopAbruptly()
            _ = try await probe.first(on: "api2mqtt/han/availability", payload: "offline", timeout: .seconds(30))
            // The bridge's own connectivity sensor and bridge/sources follow.
            _ = try await probe.first(
                on: "api2mqtt/bridge", timeout: .seconds(10), where: { (try? json($0))?["connectivity_han"] as? Bool == false })
            _ = try await probe.first(
                on: "api2mqtt/bridge/sources", timeout: .seconds(10),
                where: { ((try? json($0))?["han"] as? [String: Any])?["status"] as? String == "offline" })
            let offlineAt = probe.messages(on: "api2mqtt/han/availability").count

            try await simulator.start()
            _ = try await probe.first(
                on: "api2mqtt/han/availability", timeout: .seconds(30),
                where: { _ in probe.messages(on: "api2mqtt/han/availability").dropFirst(offlineAt).contains { $0.payloadString == "online" } })
            let after = probe.messages(on: "api2mqtt/han/availability").dropFirst(offlineAt - 1).map(\.payloadString)
            #expect(after.first == "offline" && after.last == "online", "\(after)")
            // Values flow again after the return.
            let before = probe.messages(on: "api2mqtt/han").count
            _ = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20),
                where: { [before] _ in probe.messages(on: "api2mqtt/han").count > before })
        }
    }

    @Test("a reader warming up (503 on /meter/id) gets its meter identity into the HA device within seconds, not at the hourly read")
    func identityAfterWarmUp() async throws {
        let warmingUp = CozifyHANSimulator.Configuration(telegramInterval: .milliseconds(500), meterDelay: .seconds(2))
        try await withBridge(warmingUp) { _, simulator, probe in
            let config = try await probe.first(
                on: "homeassistant/sensor/han/power_import/config", timeout: .seconds(40),
                where: { ((try? json($0))?["device"] as? [String: Any])?["serial_number"] != nil })
            let device = try #require(try json(config)["device"] as? [String: Any])
            #expect(device["serial_number"] as? String == simulator.configuration.identity.meterId)
            #expect(device["manufacturer"] as? String == "Kaifa")
            #expect(device["model"] as? String == simulator.configuration.identity.meterName)
            // /meter/id was asked again after its 503s, a few times, not once an hour.
            #expect(simulator.requests.count(method: "GET", path: "/meter/id") >= 2)
        }
    }

    @Test("a stream that keeps dropping falls back to polling /meter, and the stream takes over again when it recovers")
    func streamDrop() async throws {
        try await withBridge { _, simulator, probe in
            _ = try await probe.first(
                on: "api2mqtt/bridge/sources", timeout: .seconds(20),
                where: { ((try? json($0))?["han"] as? [String: Any])?["stream"] as? String == "up" })
            // Each new SSE connection is closed right after its snapshot: connected, but no telegrams.
            simulator.faults.activate(.dropStreams, on: .paths(["/sse"]))
            _ = try await probe.first(
                on: "api2mqtt/bridge/sources", timeout: .seconds(30),
                where: { ((try? json($0))?["han"] as? [String: Any])?["stream"] as? String == "down" })
            let polledBefore = simulator.requests.count(method: "GET", path: "/meter")
            let statesBefore = probe.messages(on: "api2mqtt/han").count
            // Values keep coming, from /meter.
            _ = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20),
                where: { [statesBefore] _ in probe.messages(on: "api2mqtt/han").count > statesBefore + 2 })
            #expect(simulator.requests.count(method: "GET", path: "/meter") > polledBefore)
            #expect(probe.messages(on: "api2mqtt/han/availability").last?.payloadString == "online")

            simulator.faults.deactivate(.dropStreams)
            let sourcesBefore = probe.messages(on: "api2mqtt/bridge/sources").count
            _ = try await probe.first(
                on: "api2mqtt/bridge/sources", timeout: .seconds(60),
                where: { [sourcesBefore] message in
                    probe.messages(on: "api2mqtt/bridge/sources").firstIndex(of: message).map { $0 >= sourcesBefore } == true
                        && ((try? json(message))?["han"] as? [String: Any])?["stream"] as? String == "up"
                })
            // Back on the stream: /meter polling stops (at most one poll already under way).
            let polledAfterRecovery = simulator.requests.count(method: "GET", path: "/meter")
            let statesAfterRecovery = probe.messages(on: "api2mqtt/han").count
            _ = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20),
                where: { [statesAfterRecovery] _ in probe.messages(on: "api2mqtt/han").count > statesAfterRecovery + 10 })
            #expect(simulator.requests.count(method: "GET", path: "/meter") <= polledAfterRecovery + 1)
        }
    }

    @Test("ts in milliseconds (documented) and in seconds (some firmware) both give the telegram's time")
    func telegramTime() async throws {
        try await withBridge { _, simulator, probe in
            _ = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20), where: { (try? json($0))?["last_telegram"] != nil })
            simulator.faults.enable(.timestampsInSeconds)
            let secondsFrom = simulator.state.telegrams.count
            _ = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20),
                where: { [secondsFrom] _ in simulator.state.telegrams.count > secondsFrom + 5 })
            simulator.faults.disable(.timestampsInSeconds)
            let telegrams = simulator.state.telegrams
            let fromMilliseconds = Set(telegrams.filter { $0.ts > 100_000_000_000 }.map { Self.iso8601(milliseconds: $0.ts) })
            let fromSeconds = Set(telegrams.filter { $0.ts <= 100_000_000_000 }.map { Self.iso8601(milliseconds: $0.ts * 1000) })
            #expect(!fromMilliseconds.isEmpty && !fromSeconds.isEmpty)
            // The bridge may still be behind the simulator on a loaded machine: wait for it.
            _ = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20),
                where: { message in ((try? json(message))?["last_telegram"] as? String).map(fromSeconds.contains) == true })
            let published = Set(probe.messages(on: "api2mqtt/han").compactMap { (try? json($0))?["last_telegram"] as? String })
            let unexpected = published.subtracting(fromMilliseconds).subtracting(fromSeconds)
            #expect(unexpected.isEmpty, "published times no telegram had: \(unexpected.sorted())")
            #expect(!published.isDisjoint(with: fromMilliseconds), "no time from a telegram in ms was published")
            #expect(!published.isDisjoint(with: fromSeconds), "no time from a telegram in seconds was published")
        }
    }

    @Test("discovery for every mapped entity arrives retained and passes the linter's Home Assistant table")
    func discoveryPassesTable() async throws {
        try await withBridge { broker, _, probe in
            _ = try await probe.first(on: "api2mqtt/han/availability", payload: "online", timeout: .seconds(20))
            let mappings = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Mappings")
            let mapping = try #require(try MappingLoader.load(builtIn: mappings.standardizedFileURL.path, environment: [:])["cozify_han"])
            // Controls are entities declared by their command; each id is one Home Assistant entity.
            let expected = Set(mapping.entities.map(\.id) + mapping.commands.map(\.id))
            _ = try await Self.waitForDiscovery(probe, node: "han", count: expected.count)
            // A subscriber arriving now gets them as retained messages.
            try await MQTTProbe.with(broker) { late in
                try await late.subscribe("homeassistant/#")
                let configs = try await Self.waitForDiscovery(late, node: "han", count: expected.count)
                let ids = Set(configs.map { String($0.topic.split(separator: "/")[3]) })
                #expect(ids == expected, "missing \(expected.subtracting(ids).sorted()), extra \(ids.subtracting(expected).sorted())")
                for message in configs {
                    #expect(message.retain, "\(message.topic) is not retained")
                    let problems = try Self.tableProblems(message)
                    #expect(problems.isEmpty, "\(message.topic): \(problems)")
                }
            }
        }
    }

    // MARK: - Helpers

    /// Waits until `count` distinct discovery configs of the device `node` have arrived; returns the first of each.
    static func waitForDiscovery(_ probe: MQTTProbe, node: String, count: Int) async throws -> [MQTTMessage] {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            var latest: [String: MQTTMessage] = [:]
            for message in probe.messages where message.topic.hasPrefix("homeassistant/") && message.topic.hasSuffix("/config") {
                let parts = message.topic.split(separator: "/")
                // The first config per topic: for a subscriber arriving late that is the retained
                // copy; a republish (the meter's identity arriving) may follow it, live, unretained.
                if parts.count == 5, parts[2] == node, !message.payload.isEmpty, latest[message.topic] == nil {
                    latest[message.topic] = message
                }
            }
            if latest.count >= count || ContinuousClock.now >= deadline { return latest.values.sorted { $0.topic < $1.topic } }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// What Home Assistant's rules (as `DeviceClassTable` records them) find wrong in one payload.
    static func tableProblems(_ message: MQTTMessage) throws -> [String] {
        let payload = try json(message)
        let component = try #require(HAComponent(rawValue: String(message.topic.split(separator: "/")[1])))
        let deviceClass = payload["device_class"] as? String
        let unit = payload["unit_of_measurement"] as? String
        let stateClass = (payload["state_class"] as? String).flatMap(StateClass.init(rawValue:))
        var problems: [String] = []
        if payload["state_class"] != nil, stateClass == nil { problems.append("unknown state_class") }
        if payload["object_id"] != nil { problems.append("deprecated object_id") }
        if payload["unique_id"] == nil || payload["default_entity_id"] == nil { problems.append("no unique_id/default_entity_id") }
        if unit != nil, component != .sensor, component != .number { problems.append("\(component.rawValue) with a unit") }
        if stateClass != nil, component != .sensor { problems.append("state_class on \(component.rawValue)") }
        guard let deviceClass else { return problems }
        guard let known = DeviceClassTable.deviceClasses(for: component), known.contains(deviceClass) else {
            return problems + ["device_class \(deviceClass) unknown for \(component.rawValue)"]
        }
        guard component == .sensor || component == .number, let rule = DeviceClassTable.sensor[deviceClass] else { return problems }
        if !rule.accepts(unit: unit) { problems.append("unit \(unit ?? "none") not valid for \(deviceClass)") }
        if let stateClass, !rule.stateClasses.contains(stateClass) {
            problems.append("state_class \(stateClass.rawValue) not valid for \(deviceClass)")
        }
        if deviceClass == "enum", ((payload["options"] as? [Any]) ?? []).isEmpty { problems.append("enum without options") }
        return problems
    }

    /// `2025-11-22T21:58:03.250Z`, without the fraction when it is .000 (Foundation's formatting,
    /// independent of the bridge's).
    static func iso8601(milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        let text = formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        return text.hasSuffix(".000Z") ? String(text.dropLast(5)) + "Z" : text
    }
}
