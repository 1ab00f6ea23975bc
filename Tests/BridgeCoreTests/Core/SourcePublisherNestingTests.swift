import BridgeCore
import TestSupport
import Testing

/// What the next sources need from the core: children nested under children (connector →
/// charge point → CSMS) with structured keys, commands on children, and presence.
@Suite("SourcePublisher: nested children, structured child keys, presence")
struct SourcePublisherNestingTests {
    static let csmsMapping = """
        source: ocpp_csms
        entities:
          - id: online
            component: binary_sensor
            device_class: connectivity
            child: { kind: charge_point, endpoint: points, list: "points[*]", id: charge_point_id }
            from: { path: online }
          - id: status
            child:
              kind: connector
              endpoint: points
              list: "points[*].connectors[*]"
              id: [charge_point_id, connector_id]
              parent: { kind: charge_point, id: charge_point_id }
            from: { path: status }
        commands:
          - id: start
            component: button
            child:
              kind: connector
              endpoint: points
              list: "points[*].connectors[*]"
              id: [charge_point_id, connector_id]
              parent: { kind: charge_point, id: charge_point_id }
            call: { method: POST, path: "/csc/$child.charge_point_id/$child.connector_id", body: { cp: "$child.charge_point_id", connector: "$child.connector_id" } }
        """

    static func points(_ ids: [String]) -> String {
        let items = ids.map { id in
            #"{"charge_point_id": "\#(id)", "online": true, "connectors": [{"charge_point_id": "\#(id)", "connector_id": 1, "status": "Available"}, {"charge_point_id": "\#(id)", "connector_id": 2, "status": "Charging"}]}"#
        }
        return #"{"points": [\#(items.joined(separator: ","))]}"#
    }

    @Test("a connector's device hangs under its charge point (via_device), and its key keeps each id field")
    func nested() async throws {
        let mapping = try MappingLoader.load(yaml: Self.csmsMapping, file: "csms.yaml")
        let harness = try BridgeHarness(source: SourceConfiguration(id: "csms", type: .ocppCSMS), mapping: mapping)
        await harness.ingest("points", Self.points(["CP_01"]))
        let ids = await harness.bridge.childDevices.map(\.id)
        #expect(ids == ["cp_01", "cp_01_1", "cp_01_2"], "\(ids)")
        let connector = try #require(harness.retainedConfig("sensor", device: "csms_cp_01_2", entity: "status"))
        #expect(connector["device"]?["via_device"] == "api2mqtt_csms_cp_01")
        let point = try #require(harness.retainedConfig("binary_sensor", device: "csms_cp_01", entity: "online"))
        #expect(point["device"]?["via_device"] == "api2mqtt_csms")
        // The key an adapter and a call get: each field, typed, never "CP_01_2" split at the wrong '_'.
        let child = try #require(await harness.bridge.child("cp_01_2"))
        #expect(child.key == ["charge_point_id": "CP_01", "connector_id": 2])
        #expect(child.parentID == "cp_01")
        guard case .call(let call)? = mapping.command("start")?.target else {
            Issue.record("start has no call")
            return
        }
        let rendered = call.rendered(value: "PRESS", childKey: child.key)
        #expect(rendered.path == "/csc/CP_01/2")
        #expect(rendered.body == ["cp": "CP_01", "connector": 2])
    }

    @Test("a charge point that goes away takes its connectors with it")
    func cascade() async throws {
        let mapping = try MappingLoader.load(yaml: Self.csmsMapping, file: "csms.yaml")
        let harness = try BridgeHarness(
            source: SourceConfiguration(id: "csms", type: .ocppCSMS), settings: PublishSettings(childGracePeriod: .seconds(60)),
            mapping: mapping)
        await harness.bridge.setOnline(true)
        await harness.ingest("points", Self.points(["CP1", "CP2"]))
        #expect(await harness.bridge.childDevices.count == 6)
        harness.clock.advance(.seconds(61))
        await harness.ingest("points", Self.points(["CP1"]))
        harness.clock.advance(.seconds(1))
        await harness.bridge.tick()
        #expect(await harness.bridge.childDevices.map(\.id) == ["cp1", "cp1_1", "cp1_2"])
        for device in ["csms_cp2", "csms_cp2_1", "csms_cp2_2"] {
            #expect(harness.broker.retained["api2mqtt/\(device)/availability"] == nil, "\(device) availability cleared")
        }
        #expect(harness.retainedConfig("sensor", device: "csms_cp2_1", entity: "status") == nil)
        #expect(harness.retainedConfig("binary_sensor", device: "csms_cp2", entity: "online") == nil)
    }

    @Test("a parent's removal cascades to children listed on another endpoint too")
    func cascadeAcrossEndpoints() async throws {
        let yaml = """
            source: ocpp_csms
            entities:
              - id: online
                component: binary_sensor
                child: { kind: charge_point, endpoint: points, list: "[*]", id: id }
                from: { path: online }
              - id: power
                child:
                  kind: session
                  endpoint: sessions
                  list: "[*]"
                  id: transaction_id
                  parent: { kind: charge_point, id: charge_point_id }
                from: { path: power }
                device_class: power
                unit: W
            """
        let mapping = try MappingLoader.load(yaml: yaml, file: "csms.yaml")
        let harness = try BridgeHarness(
            source: SourceConfiguration(id: "csms", type: .ocppCSMS), settings: PublishSettings(childGracePeriod: .seconds(60)),
            mapping: mapping)
        await harness.ingest("points", #"[{"id": "A", "online": true}, {"id": "B", "online": false}]"#)
        await harness.ingest("sessions", #"[{"transaction_id": 7, "charge_point_id": "B", "power": 7000}]"#)
        #expect(await harness.bridge.childDevices.map(\.id) == ["7", "a", "b"])
        harness.clock.advance(.seconds(61))
        await harness.ingest("points", #"[{"id": "A", "online": true}]"#)
        await harness.bridge.tick()
        #expect(await harness.bridge.childDevices.map(\.id) == ["a"], "the session under B went with B")
    }

    static let networkMapping = """
        source: fritz_network
        entities:
          - id: presence
            component: device_tracker
            child: { kind: client, endpoint: devices, list: "devices[*]", id: mac, name: name }
            from: { path: online }
            presence: { away_after: 5m, remove_after: 1h, stale: { path: is_stale } }
        """

    static func devices(_ online: [String: Bool], stale: Bool = false) -> String {
        let items = online.sorted { $0.key < $1.key }.map { #"{"mac": "\#($0.key)", "name": "\#($0.key)", "online": \#($0.value)}"# }
        return #"{"is_stale": \#(stale), "devices": [\#(items.joined(separator: ","))]}"#
    }

    @Test("presence: home, not_home only after away_after of fresh absence, stale data flips nothing, removed after remove_after")
    func presence() async throws {
        let mapping = try MappingLoader.load(yaml: Self.networkMapping, file: "fritz.yaml")
        let harness = try BridgeHarness(source: SourceConfiguration(id: "fritz", type: .fritzNetwork), mapping: mapping)
        await harness.ingest("devices", Self.devices(["phone": true, "tv": true]))
        #expect(harness.states("api2mqtt/fritz_phone") == [["presence": "home"]])
        let config = try #require(harness.retainedConfig("device_tracker", device: "fritz_phone", entity: "presence"))
        #expect(config["value_template"] == "{{ value_json.presence | default(None) }}")
        #expect(config["source_type"] == "router")

        // The phone leaves. Stale data for 30 minutes changes nothing.
        for _ in 1...30 {
            harness.clock.advance(.seconds(60))
            await harness.ingest("devices", Self.devices(["tv": true], stale: true))
        }
        #expect(harness.states("api2mqtt/fritz_phone") == [["presence": "home"]], "stale data never flips it")
        // Fresh data without the phone: away only once away_after has passed in fresh data.
        await harness.ingest("devices", Self.devices(["tv": true]))
        #expect(harness.states("api2mqtt/fritz_phone").last == ["presence": "not_home"])
        #expect(harness.states("api2mqtt/fritz_tv") == [["presence": "home"]])
        // Back: home at once.
        harness.clock.advance(.seconds(10))
        await harness.ingest("devices", Self.devices(["tv": true, "phone": true]))
        #expect(harness.states("api2mqtt/fritz_phone").last == ["presence": "home"])
        // Gone for remove_after: its device is removed, and a list that still names it offline does not bring it back.
        harness.clock.advance(.seconds(3600))
        await harness.ingest("devices", Self.devices(["tv": true, "phone": false]))
        #expect(await harness.bridge.childDevices.map(\.id) == ["tv"])
        #expect(harness.retainedConfig("device_tracker", device: "fritz_phone", entity: "presence") == nil)
        await harness.bridge.tick()
        await harness.ingest("devices", Self.devices(["tv": true, "phone": false]))
        #expect(await harness.bridge.childDevices.map(\.id) == ["tv"])
    }

    @Test("a source's away_after setting wins over the mapping's")
    func configuredAwayAfter() async throws {
        let mapping = try MappingLoader.load(yaml: Self.networkMapping, file: "fritz.yaml")
        let source = SourceConfiguration(id: "fritz", type: .fritzNetwork, options: ["away_after": .duration(.seconds(60))])
        let harness = try BridgeHarness(source: source, mapping: mapping)
        await harness.ingest("devices", Self.devices(["phone": true]))
        harness.clock.advance(.seconds(61))
        await harness.ingest("devices", Self.devices([:]))
        #expect(harness.states("api2mqtt/fritz_phone").last == ["presence": "not_home"])
    }
}
