import Foundation
import Mosquitto
import Simulators
import Testing
import TestSupport

/// Mosquitto + the Cozify HAN simulator + the real executable, driven only through MQTT.
@Suite("Cozify HAN end to end", .serialized)
struct CozifyHANEndToEndTests {
    func withBridge(
        _ configuration: CozifyHANSimulator.Configuration = .init(telegramInterval: .milliseconds(200)),
        _ body: @Sendable (MosquittoBroker, CozifyHANSimulator, MQTTProbe) async throws -> Void
    ) async throws {
        let simulator = CozifyHANSimulator(configuration: configuration)
        let port = try await simulator.start()
        do {
            try await MosquittoBroker.with { broker in
                let bridge = try BridgeProcess.start(
                    yaml: bridgeYAML(
                        broker: broker,
                        extra: """
                            sources:
                              - id: han
                                type: cozify_han
                                name: HAN reader
                                url: http://127.0.0.1:\(port)
                                poll_interval: 1s
                            """))
                defer { bridge.stopAndRemoveFiles() }
                do {
                    try await MQTTProbe.with(broker) { probe in
                        try await probe.subscribe("api2mqtt/#")
                        try await probe.subscribe("homeassistant/#")
                        try await body(broker, simulator, probe)
                    }
                } catch {
                    // What the bridge said is the first thing to read when this fails (in CI too).
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

    @Test("meter values from the SSE stream reach api2mqtt/han in W and kWh, with discovery and availability")
    func states() async throws {
        try await withBridge { _, simulator, probe in
            let state = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20), where: { (try? json($0))?["energy_import"] != nil })
            let values = try json(state)
            let sent = try #require(simulator.state.telegrams.last)
            #expect((values["energy_import"] as? Double).map { $0 > 0 } == true)
            #expect(sent.ic > 0)
            #expect(values["power_import"] != nil)
            _ = try await probe.first(on: "api2mqtt/han/availability", payload: "online", timeout: .seconds(20))
            let discovery = try json(try await probe.first(on: "homeassistant/sensor/han/energy_import/config"))
            #expect(discovery["state_class"] as? String == "total_increasing")
            #expect(discovery["unit_of_measurement"] as? String == "kWh")
        }
    }

    @Test("fixed price and spot price commands change the reader's configuration with one ok result each and the refreshed state; out of range makes no call")
    func commands() async throws {
        try await withBridge { _, simulator, probe in
            _ = try await probe.first(on: "api2mqtt/han/availability", payload: "online", timeout: .seconds(20))
            try await probe.client.publish("api2mqtt/han/fixed_price/set", string: #"{"value":0.3,"transaction":"p1"}"#, qos: .atLeastOnce)
            let ok = try json(try await probe.next(on: "api2mqtt/han/result", timeout: .seconds(20)))
            #expect(ok["status"] as? String == "ok", "\(ok)")
            #expect(ok["transaction"] as? String == "p1")
            #expect(simulator.state.configuration.p == 0.3)
            // The configuration is read again after the command: Home Assistant sees the new value.
            _ = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20), where: { (try? json($0))?["fixed_price"] as? Double == 0.3 })

            // The spot price switch: ON/OFF as Home Assistant sends it, the refreshed state follows.
            let spotBefore = simulator.state.configuration.s
            try await probe.client.publish(
                "api2mqtt/han/spot_price/set", string: spotBefore ? "OFF" : "ON", qos: .atLeastOnce)
            let switched = try json(try await probe.next(on: "api2mqtt/han/result", timeout: .seconds(20)))
            #expect(switched["status"] as? String == "ok", "\(switched)")
            #expect(simulator.state.configuration.s == !spotBefore)
            _ = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20), where: { (try? json($0))?["spot_price"] as? Bool == !spotBefore })

            let postsBefore = simulator.requests.count(method: "POST", path: "/configuration")
            try await probe.client.publish("api2mqtt/han/fixed_price/set", string: "99", qos: .atLeastOnce)
            let rejected = try json(try await probe.next(on: "api2mqtt/han/result", timeout: .seconds(20)))
            #expect(rejected["error_code"] as? String == "invalid_value")
            #expect(simulator.requests.count(method: "POST", path: "/configuration") == postsBefore)

            // Exactly one result per command, also once everything has settled.
            try await Task.sleep(for: .seconds(1))
            #expect(probe.messages(on: "api2mqtt/han/result").count == 3)
            #expect(simulator.requests.count(method: "POST", path: "/configuration") == 2)
        }
    }

    @Test("an energy glitch to 0 never reaches MQTT as a lower value")
    func energyGlitch() async throws {
        try await withBridge { _, simulator, probe in
            _ = try await probe.first(
                on: "api2mqtt/han", timeout: .seconds(20), where: { (try? json($0))?["energy_import"] != nil })
            // Several glitched telegrams in a row: still not a meter reset (that needs five minutes).
            simulator.faults.enable(.energyGlitch, times: 5)
            try await Task.sleep(for: .seconds(2))
            let published = probe.messages(on: "api2mqtt/han").compactMap { (try? json($0))?["energy_import"] as? Double }
            #expect(published.count >= 2)
            #expect(!published.contains(0))
            #expect(zip(published, published.dropFirst()).allSatisfy { $0 <= $1 }, "\(published)")
        }
    }
}
