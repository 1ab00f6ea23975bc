import Foundation
import Mosquitto
import Testing
import TestSupport

@Suite("The api2mqtt executable against a real mosquitto", .serialized)
struct LifecycleTests {
    @Test("SIGTERM publishes offline, disconnects cleanly and exits 0 within 5 s")
    func sigterm() async throws {
        try await MosquittoBroker.with { broker in
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("api2mqtt/bridge/state")
                let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
                defer { bridge.stopAndRemoveFiles() }
                #expect(try await probe.first(on: "api2mqtt/bridge/state", payload: "online").retain == false)
                let sent = ContinuousClock.now
                bridge.process.signal(SIGTERM)
                let status = await bridge.process.waitForExit(timeout: .seconds(5))
                #expect(status == 0, "exit status \(String(describing: status)); log:\n\(bridge.log)")
                #expect(ContinuousClock.now - sent < .seconds(5))
                let offline = try await probe.first(on: "api2mqtt/bridge/state", payload: "offline")
                #expect(offline.payloadString == "offline", "\(probe.messages(on: "api2mqtt/bridge/state").map(\.payloadString))")
                #expect(bridge.log.contains("Broker disconnected"))
            }
        }
    }

    @Test("the last will publishes offline, retained, when the process is killed with SIGKILL")
    func lastWill() async throws {
        try await MosquittoBroker.with { broker in
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker))
            defer { bridge.stopAndRemoveFiles() }
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("api2mqtt/bridge/state")
                _ = try await probe.first(on: "api2mqtt/bridge/state", payload: "online")
                bridge.process.signal(SIGKILL)
                _ = try await probe.first(on: "api2mqtt/bridge/state", payload: "offline")
            }
            // Retained: a client arriving later still learns the bridge is offline.
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("api2mqtt/bridge/state")
                let state = try await probe.next(on: "api2mqtt/bridge/state")
                #expect(state.payloadString == "offline")
                #expect(state.retain)
            }
        }
    }

    @Test("a wrong broker password stops the bridge with a clear error naming the broker and the reason")
    func wrongPassword() async throws {
        try await MosquittoBroker.with(.init(users: ["bridge": "right-password"])) { broker in
            let bridge = try BridgeProcess.start(
                yaml: bridgeYAML(broker: broker, mqttExtra: "  username: bridge\n  password: ${BROKER_PASSWORD}"),
                environment: ["BROKER_PASSWORD": "wrong-horse-battery"])
            defer { bridge.stopAndRemoveFiles() }
            let status = await bridge.process.waitForExit(timeout: .seconds(15))
            #expect(status != nil && status != 0)
            #expect(bridge.log.contains("refused the connection"))
            #expect(bridge.log.contains("127.0.0.1:\(broker.port)"))
            #expect(bridge.log.contains("Not authorized"))
            #expect(!bridge.log.contains("wrong-horse-battery"))
        }
    }

    @Test("/health is 200 while the broker is connected and 503 while it is not")
    func health() async throws {
        try await MosquittoBroker.with { broker in
            let port = try FreePort.find()
            let bridge = try BridgeProcess.start(yaml: bridgeYAML(broker: broker, httpPort: port))
            defer { bridge.stopAndRemoveFiles() }
            let url = "http://127.0.0.1:\(port)/health"
            try await eventually { (try? await BridgeProcess.runToCompletion(["health", "--url", url]).status) == 0 }
            broker.stop()
            try await eventually { (try? await BridgeProcess.runToCompletion(["health", "--url", url]).status) == 1 }
            let answer = try await BridgeProcess.runToCompletion(["health", "--url", url])
            #expect(answer.output.contains("HTTP 503"))
        }
    }
}

@Suite("api2mqtt check and version")
struct CheckCommandTests {
    @Test("check exits 0 for the shipped example configuration")
    func exampleIsValid() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Config/api2mqtt.yaml").standardized.path
        let result = try await BridgeProcess.runToCompletion(["check", "--config", example])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test("discovery dump publishes what run would: a source's own mapping overlay included")
    func discoveryDumpWithSourceOverlay() async throws {
        let directory = try TemporaryDirectory.make(prefix: "dump")
        defer { try? FileManager.default.removeItem(at: directory) }
        let overlay = directory.appendingPathComponent("han.yaml")
        try """
            source: cozify_han
            entities:
              - { id: power_import, name: Grid draw }
            """.write(to: overlay, atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("api2mqtt.yaml")
        try """
            mqtt:
              url: mqtt://127.0.0.1:1883
            sources:
              - id: han
                type: cozify_han
                url: http://127.0.0.1:8080
                mapping: \(overlay.path)
            """.write(to: config, atomically: true, encoding: .utf8)
        let result = try await BridgeProcess.runToCompletion(["discovery", "dump", "--config", config.path])
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n")
        let index = try #require(lines.firstIndex(of: "homeassistant/sensor/han/power_import/config"))
        #expect(lines[index + 1].contains(#""name":"Grid draw""#), "\(lines[index + 1])")
    }

    @Test("mappings render prints the state a mapping makes of a captured document")
    func mappingsRender() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../BridgeCoreTests/Fixtures/cozify_han/meter.json").standardized.path
        let result = try await BridgeProcess.runToCompletion(["mappings", "render", "cozify_han", "meter", fixture])
        #expect(result.status == 0, "\(result.output)")
        let line = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("<device>\t") })
        #expect(line.contains(#""energy_import":"#) && line.contains(#""voltage_l1":"#), "\(line)")
        let unknown = try await BridgeProcess.runToCompletion(["mappings", "render", "no_such_type", "meter", fixture])
        #expect(unknown.status == 1 && unknown.output.contains("no mapping for source type 'no_such_type'"), "\(unknown.output)")
    }

    @Test("check exits 1 and prints every error with file:line:column")
    func invalidConfiguration() async throws {
        let directory = try TemporaryDirectory.make(prefix: "check")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.yaml")
        try """
            mqtt:
              url: http://127.0.0.1:1883
              pasword: x
            log:
              level: loud
            """.write(to: file, atomically: true, encoding: .utf8)
        let result = try await BridgeProcess.runToCompletion(["check", "--config", file.path])
        #expect(result.status == 1)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(file.path):2:") && $0.contains("mqtt.url") })
        #expect(lines.contains { $0.hasPrefix("\(file.path):3:") && $0.contains("pasword") })
        #expect(lines.contains { $0.hasPrefix("\(file.path):5:") && $0.contains("log.level") })
    }

    @Test("check refuses a mapping overlay that reads an endpoint the source's adapter does not serve")
    func unservedEndpoint() async throws {
        let directory = try TemporaryDirectory.make(prefix: "check")
        defer { try? FileManager.default.removeItem(at: directory) }
        let overlay = directory.appendingPathComponent("mappings")
        try FileManager.default.createDirectory(at: overlay, withIntermediateDirectories: true)
        try """
            source: cozify_han
            entities:
              - id: power_typo
                from: { endpoint: metre, path: "pi[0]" }
                device_class: power
            """.write(to: overlay.appendingPathComponent("cozify_han.yaml"), atomically: true, encoding: .utf8)
        let file = directory.appendingPathComponent("src.yaml")
        try """
            mqtt:
              url: mqtt://127.0.0.1:1883
            mappings:
              directory: mappings
            sources:
              - id: han
                type: cozify_han
                url: http://127.0.0.1:8080
            """.write(to: file, atomically: true, encoding: .utf8)
        let result = try await BridgeProcess.runToCompletion(["check", "--config", file.path])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("endpoint 'metre'") || result.output.contains("metre"), "\(result.output)")
        #expect(result.output.contains("does not serve"), "\(result.output)")
    }

    @Test("version prints the version")
    func version() async throws {
        let result = try await BridgeProcess.runToCompletion(["version"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("api2mqtt "))
    }
}

/// Polls `condition` every 100 ms until it holds (or fails after `timeout`).
func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestSupportError("condition not met within \(timeout)") }
        try await Task.sleep(for: .milliseconds(100))
    }
}
