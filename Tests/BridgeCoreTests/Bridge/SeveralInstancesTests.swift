import BridgeCore
import Testing
import TestSupport

/// Several instances on one broker: each base topic is a namespace of its own, and an instance
/// that sees another client id under its base topic stops answering `unknown_device`.
@Suite("Several instances on one broker")
struct SeveralInstancesTests {
    private func bridge(base: String?) throws -> Bridge {
        let configuration = try ConfigLoader.load(
            yaml: """
                mqtt:
                  url: mqtt://127.0.0.1:1883
                  client_id: bridge-a
                \(base.map { "  base_topic: '\($0)'" } ?? "")
                sources:
                  - id: han
                    type: cozify_han
                    url: http://127.0.0.1:1
                """, file: "test.yaml", environment: [:])
        return Bridge(configuration: configuration, broker: InMemoryBroker(), logger: CoreTestSupport.logger)
    }

    @Test("the bridge device's discovery topics carry the base topic unless it is the default")
    func bridgeDeviceNode() throws {
        let topics = { (base: String?) throws -> Set<String> in Set(try self.bridge(base: base).bridgeDeviceDiscovery().map(\.topic)) }
        #expect(try topics(nil).contains("homeassistant/sensor/bridge/version/config"))
        #expect(try topics("api2mqtt_b").contains("homeassistant/sensor/api2mqtt_b_bridge/version/config"))
        #expect(try topics("site/a").contains("homeassistant/button/site_a_bridge/restart/config"))
        #expect(try topics(nil).isDisjoint(with: try topics("api2mqtt_b")))
    }

    @Test("another client id on <base>/bridge/info: commands to devices this bridge does not own are left unanswered")
    func sharedBaseLeavesOthersCommands() async throws {
        let harness = try await RouterHarness()
        await harness.send("api2mqtt/bms/restart_bms/set", "PRESS")
        await harness.settle()
        #expect(harness.results("bms").map { $0["error_code"] } == ["unknown_device"])

        await harness.router.setSharesBase()
        await harness.send("api2mqtt/bms/restart_bms/set", "PRESS")
        // Its own devices (a child it does not know included) are still answered.
        await harness.send("api2mqtt/han_z/unlock/set", "PRESS")
        await harness.send("api2mqtt/han/fuse/set", "20")
        await harness.settle()
        #expect(harness.results("bms").count == 1)
        #expect(harness.results("han_z").map { $0["error_code"] } == ["unknown_device"])
        #expect(harness.results("han").map { $0["status"] } == ["ok"])
        #expect(await harness.router.counts.leftToOtherInstance == 1)
    }

    @Test("the bridge notices another instance's bridge/info (retained or live), not its own")
    func noticesOtherInstance() async throws {
        let bridge = try bridge(base: nil)
        await bridge.handle(InboundMessage(topic: "api2mqtt/bridge/info", string: #"{"client_id": "bridge-a"}"#, retain: true))
        await bridge.handle(InboundMessage(topic: "api2mqtt/bms/restart_bms/set", string: "PRESS"))
        await bridge.router.drain(timeout: .seconds(10))
        #expect(await bridge.router.counts.leftToOtherInstance == 0)

        await bridge.handle(InboundMessage(topic: "api2mqtt/bridge/info", string: #"{"client_id": "bridge-b"}"#, retain: true))
        await bridge.handle(InboundMessage(topic: "api2mqtt/bms/restart_bms/set", string: "PRESS"))
        #expect(await bridge.router.counts.leftToOtherInstance == 1)
    }
}
