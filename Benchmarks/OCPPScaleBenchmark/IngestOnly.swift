// `OCPPScaleBenchmark --ingest <charge points> [publishers]`: the bridge's own work on the first
// poll of N charge points × 2 connectors, without a broker or an executable, so that it can be
// counted in instructions (`valgrind --tool=callgrind`), which the machine's load does not change.
// The simulator's /chp answer is read once (another account's login), turned into the two
// documents the adapter delivers (`charge_points`, and `connectors` with no sessions), and then
// `publishers` fresh SourcePublishers each ingest both into a broker that only counts. The
// difference between two runs with different `publishers` is the cost of one first poll: mapping,
// discovery (rendering every config) and the first state of every device.
import BridgeCore
import Foundation
import Logging
import Simulators
import SourceKit
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Counts what would have gone to the broker.
final class CountingBroker: BrokerConnection, Sendable {
    struct Counts {
        var configs = 0
        var configBytes = 0
        var others = 0
        var otherBytes = 0
        var awaited = 0
    }

    let counts = Mutex(Counts())
    let supportsProperties = true
    let brokerDescription = "memory://counting"
    var isConnected: Bool { true }

    func publish(_ message: OutboundMessage) async throws {
        counts.withLock { $0.awaited += 1 }
        try enqueue(message)
    }

    func enqueue(_ message: OutboundMessage) throws {
        counts.withLock { counts in
            if message.topic.hasSuffix("/config") {
                counts.configs += 1
                counts.configBytes += message.payload.count
            } else {
                counts.others += 1
                counts.otherBytes += message.payload.count
            }
        }
    }

    func subscribe(_ filter: String) async throws {}
    func unsubscribe(_ filter: String) {}
}

/// The process's CPU time in ms.
func processCPUMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000
}

/// A client of the simulator on `port`, logged in as its second account (not the bridge's).
func simulatorReader(port: Int, pool: HTTPClientPool, logger: Logger) throws -> SourceHTTPClient {
    SourceHTTPClient(
        configuration: .init(baseURL: try SourceURL("http://127.0.0.1:\(port)")),
        auth: LoginBearerAuth(
            login: LoginForm(
                path: "/api/v1/users/authenticate",
                fields: ["username": Credential("driver@example.com"), "password": Credential("driver-password")]),
            options: .init(readsJWTExpiry: false)),
        pool: pool, logger: logger)
}

func ingestOnly(chargePoints count: Int, publishers: Int, mapping: MappingFile, logger: Logger) async throws {
    let simulator = OCPPCSMSSimulator(
        configuration: .init(chargePoints: OCPPCSMSSimulator.ChargePointSpec.fleet(count: count, connectors: 2)))
    let port = try await simulator.start()
    let pool = HTTPClientPool(logger: logger)
    let reader = try simulatorReader(port: port, pool: pool, logger: logger)
    let points = try JSONValue.parse(try await reader.get("/api/v1/chp").body)
    await pool.shutdown()
    await simulator.stop()

    // The adapter's `connectors` document: each connector with its charge point and no session.
    var connectors: [JSONValue] = []
    for point in points.arrayValue ?? [] {
        for connector in point["connectors"]?.arrayValue ?? [] {
            guard var fields = connector.objectValue else { continue }
            fields["charge_point_id"] = point["charge_point_id"] ?? .null
            fields["session"] = .null
            connectors.append(.object(fields))
        }
    }
    let connectorsDocument = JSONValue.array(connectors)

    let broker = CountingBroker()
    let context = DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant")
    let configuration = SourceConfiguration(
        id: "csms", type: .ocppCSMS, name: "CSMS", url: URL(string: "http://127.0.0.1:1"),
        options: ["remote_start_id_tag": .string("TAG001")])
    let cpuStart = processCPUMilliseconds()
    let clock = ContinuousClock.now
    for _ in 0..<publishers {
        let publisher = SourcePublisher(
            configuration: configuration, mapping: mapping, context: context, settings: PublishSettings(), broker: broker,
            discovery: DiscoveryPublisher(context: context, broker: broker, logger: logger),
            availability: AvailabilityPublisher(context: context, broker: broker, logger: logger), logger: logger)
        await publisher.setOnline(true)
        await publisher.ingest(endpoint: "charge_points", document: points)
        await publisher.ingest(endpoint: "connectors", document: connectorsDocument)
    }
    let elapsed = ContinuousClock.now - clock
    let cpu = processCPUMilliseconds() - cpuStart
    let counts = broker.counts.withLock { $0 }
    print(
        "ingest N=\(count) × \(publishers) publishers: \(counts.configs) configs (\(counts.configBytes / max(1, counts.configs)) bytes each, "
            + "\(counts.awaited) awaited), \(counts.others) other messages (\(counts.otherBytes) bytes); "
            + "CPU \(String(format: "%.0f", cpu)) ms, wall \(elapsed) for all publishers")
}
