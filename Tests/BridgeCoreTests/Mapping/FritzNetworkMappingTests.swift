import Foundation
import Testing
import TestSupport

@testable import BridgeCore

/// `Mappings/fritz_network.yaml` against documents the Fritz!Box network simulator serves through
/// the fritz_network adapter (fritzbox-network.md, with the FIELD-NOTES quirks).
@Suite("The Fritz!Box network mapping")
struct FritzNetworkMappingTests {
    static let source = "fritz_network"

    static func mapping() throws -> MappingFile {
        let path = "\(MappingsDirectory.mappings)/fritz_network.yaml"
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
        return try MappingLoader.load(yaml: yaml, file: path)
    }

    static func fixture(_ name: String) throws -> JSONValue {
        try #require(try MappingsDirectory.fixture(source: source, endpoint: name), "no fixture \(name)")
    }

    /// Runs the mapping over a fixture read from `endpoint`; a document that does not fit is an issue.
    static func read(
        _ endpoint: String, fixture: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MappingOutput {
        let document = try Self.fixture(fixture ?? endpoint)
        let output = MappingEngine().readings(endpoint: endpoint, document: document, mapping: try mapping())
        #expect(output.issues.map(\.description) == [], sourceLocation: sourceLocation)
        return output
    }

    static func rendered(_ output: MappingOutput) -> [String: String] {
        Dictionary(
            output.readings.filter { $0.childID == nil }.map { ($0.entityID, $0.value.rendered) },
            uniquingKeysWith: { first, _ in first })
    }

    @Test("Loads, lints clean, reads only endpoints the adapter serves, has no commands")
    func loadsAndLints() throws {
        let mapping = try Self.mapping()
        #expect(mapping.source == "fritz_network")
        #expect(MappingLinter.lint(mapping).map(\.description) == [])
        #expect(mapping.endpoints == ["wan", "bandwidth", "devices"])
        #expect(mapping.commands.isEmpty)
        let ids = mapping.entities.map(\.id)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.wholeMatch(of: /[a-z][a-z0-9_]*/) != nil, "\(id) is not snake_case")
        }
    }

    @Test("WAN: connected, link, external IP, uptime in s, line rates in Mbit/s, freshness")
    func wan() throws {
        let values = Self.rendered(try Self.read("wan"))
        #expect(values["wan_connected"] == "ON")
        #expect(values["wan_linked"] == "ON")
        #expect(values["external_ip"] == "93.219.45.112")
        #expect(values["wan_uptime"] == "345678")
        #expect(values["link_upstream"] == "40")
        #expect(values["link_downstream"] == "250")
        #expect(values["data_stale"] == "OFF")
        let mapping = try Self.mapping()
        #expect(mapping.entity("wan_connected")?.deviceClass == "connectivity")
        #expect(mapping.entity("link_downstream")?.deviceClass == "data_rate")
        #expect(mapping.entity("link_downstream")?.unit == "Mbit/s")
        #expect(mapping.entity("data_stale")?.deviceClass == "problem")
        #expect(mapping.entity("wan_uptime")?.unit == "s")
    }

    @Test("Stale WAN data with a malformed fetched_at: the problem sensor is on, the values still read")
    func staleQuirks() throws {
        let values = Self.rendered(try Self.read("wan", fixture: "wan-stale-quirks"))
        #expect(values["data_stale"] == "ON")
        #expect(values["wan_uptime"] == "12")
        #expect(values["external_ip"] == "93.219.45.112")
    }

    @Test("Bandwidth: rates in Mbit/s, byte counters in GB and total_increasing; a reset after a reboot reads as a small value")
    func bandwidth() throws {
        let values = Self.rendered(try Self.read("bandwidth"))
        #expect(values["upload_rate"] == "2.3")
        #expect(values["download_rate"] == "48.1")
        #expect(values["bytes_sent"] == "12.346")
        #expect(values["bytes_received"] == "98.765")
        let mapping = try Self.mapping()
        for id in ["bytes_sent", "bytes_received"] {
            #expect(mapping.entity(id)?.deviceClass == "data_size")
            #expect(mapping.entity(id)?.unit == "GB")
            #expect(mapping.entity(id)?.stateClass == .totalIncreasing)
        }
        let after = Self.rendered(try Self.read("bandwidth", fixture: "bandwidth-after-reboot"))
        #expect(after["bytes_sent"] == "0")
        #expect(after["bytes_received"] == "0.001")
        #expect(after["download_rate"] == "0.9")
    }

    @Test("Devices: counts, one tracker per client keyed by MAC (IP when the MAC is empty), name shown, IP and MAC as attributes")
    func devices() throws {
        let output = try Self.read("devices")
        let values = Self.rendered(output)
        #expect(values["devices_online"] == "3")
        #expect(values["devices_total"] == "4")
        #expect(output.children.map(\.id) == ["aa_bb_cc_dd_ee_01", "aa_bb_cc_dd_ee_04", "aa_bb_cc_dd_ee_10", "aa_bb_cc_dd_ee_50"])
        #expect(output.children.last?.name == #"evil/#+ "quoted""#)
        let presence = Dictionary(
            output.readings.filter { $0.entityID == "presence" }.compactMap { reading in reading.childID.map { ($0, reading) } },
            uniquingKeysWith: { first, _ in first })
        #expect(presence["aa_bb_cc_dd_ee_01"]?.value == .string("home"))
        #expect(presence["aa_bb_cc_dd_ee_04"]?.value == .string("not_home"))
        let attributes = try #require(presence["aa_bb_cc_dd_ee_50"]?.attributes)
        #expect(attributes["ip"] == "192.168.178.50")
        #expect(attributes["mac"] == "AA:BB:CC:DD:EE:50")
        #expect(attributes["name"] == #"evil/#+ "quoted""#)
        let tracker = try #require(try Self.mapping().entity("presence"))
        #expect(tracker.component == .deviceTracker)
        #expect(tracker.presence?.awayAfter == .seconds(300))

        // Legacy server with quirks: empty MAC → keyed by IP; provider_type null is ignored.
        let legacy = try Self.read("devices", fixture: "devices-legacy-quirks")
        #expect(legacy.children.map(\.id) == ["aa_bb_cc_dd_ee_01", "192_168_178_11"])
        #expect(legacy.children.last?.name == "Printer-HP")
    }

    @Test("Through the publisher: trackers say home with their attributes, no topic carries the client's name")
    func published() async throws {
        let harness = try BridgeHarness(
            source: SourceConfiguration(id: "fritz", type: .fritzNetwork), mapping: try Self.mapping())
        await harness.bridge.ingest(endpoint: "devices", document: try Self.fixture("devices"), sourceSaysReset: false)
        #expect(harness.states("api2mqtt/fritz_aa_bb_cc_dd_ee_50") == [["presence": "home"]])
        let attributes = try #require(harness.states("api2mqtt/fritz_aa_bb_cc_dd_ee_50/presence/attributes").last)
        #expect(attributes["mac"] == "AA:BB:CC:DD:EE:50")
        #expect(attributes["ip"] == "192.168.178.50")
        let config = try #require(harness.retainedConfig("device_tracker", device: "fritz_aa_bb_cc_dd_ee_50", entity: "presence"))
        #expect(config["source_type"] == "router")
        #expect(config["device"]?["name"] == #"evil/#+ "quoted""#)
        for topic in harness.broker.retained.keys {
            #expect(!topic.contains("#") && !topic.contains("+") && !topic.contains("\"") && !topic.contains("evil"), "\(topic)")
        }
    }
}
