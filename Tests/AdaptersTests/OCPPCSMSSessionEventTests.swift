import BridgeCore
import Foundation
import Logging
import SourceKit
import Testing

@testable import Adapters

/// `session_event` on the `connectors` document, from list snapshots given directly (no server).
@Suite("OCPPCSMSAdapter session events")
struct OCPPCSMSSessionEventTests {
    static func points(_ transaction: Int) -> [JSONValue] {
        [["charge_point_id": "CP1", "connectors": [["connector_id": 1, "status": "Available", "current_transaction_id": .number(Double(transaction))]]]]
    }

    static func snapshot(_ items: [JSONValue], _ generation: Int) -> OCPPCSMSCache.Snapshot {
        OCPPCSMSCache.Snapshot(items: items, generation: generation)
    }

    static func event(_ document: JSONValue) -> JSONValue? {
        document.arrayValue?.first?["session_event"]
    }

    @Test("a document built from an older read than the previous one (a poll racing a socket refresh) fires nothing and changes nothing")
    func olderReadsFireNothing() async throws {
        let pool = HTTPClientPool()
        let source = SourceConfiguration(
            id: "csms", type: .ocppCSMS, url: URL(string: "http://127.0.0.1:9"),
            options: ["username": .string("u"), "password": .secret(Secret("p"))])
        let adapter = try OCPPCSMSAdapter(configuration: source, pool: pool, logger: Logger(label: "test"))
        let none = Self.snapshot([], 1)
        #expect(Self.event(adapter.connectorsDocument(chargePoints: Self.snapshot(Self.points(-1), 1), sessions: none)) == nil)
        let started = adapter.connectorsDocument(chargePoints: Self.snapshot(Self.points(7), 2), sessions: Self.snapshot([], 2))
        #expect(Self.event(started) == ["type": "started", "transaction_id": 7])
        // A late document from the first read: no "stopped", and the next fresh one fires nothing either.
        #expect(Self.event(adapter.connectorsDocument(chargePoints: Self.snapshot(Self.points(-1), 1), sessions: none)) == nil)
        #expect(Self.event(adapter.connectorsDocument(chargePoints: Self.snapshot(Self.points(7), 3), sessions: Self.snapshot([], 3))) == nil)
        let stopped = adapter.connectorsDocument(chargePoints: Self.snapshot(Self.points(0), 4), sessions: Self.snapshot([], 4))
        #expect(Self.event(stopped) == ["type": "stopped", "transaction_id": 7])
        await pool.shutdown()
    }
}
