// Mapping + publish throughput of BridgeCore on a real loopback mosquitto, and the time to
// publish discovery for 20,000 entities.
//
// 0. CPU per document without a broker: the mapping engine alone, and the whole ingest.
// 1. A 16-cell battery document (2 pack entities + 2 entities per cell → 17 devices, 34 readings)
//    and a 1,000-item list document (1,000 network clients × 3 entities) go through
//    `SourcePublisher.ingest` with values that change every time, so every reading is published.
//    A C subscriber (Benchmarks/c/mqttbench.c) counts the state messages; documents/s,
//    readings/s and messages/s are from the first to the last arrival.
// 2. The raw client publishing the same number of messages of the same size to the same topics
//    (the bridge's device topics, below a base of the same length) in the same run gives the
//    baseline messages/s; the ratio is printed (target ≥ 0.9). Both paths warm up first (the
//    bridge's first document publishes discovery), and the broker logs as deployed. The runs of
//    each round take turns going first.
//    A third round per document shape calibrates: the raw client busy, before each document, for
//    as long as the bridge's ingest takes without a broker (step 0), which is what that much CPU
//    per document costs on this machine whatever spends it.
// 3. Discovery: a 2,000-child × 10-entity mapping is ingested once; the time until the
//    subscriber has all 20,000 retained config messages is printed (target ≤ 3 s).
//
// Usage: CoreBenchmark <path to mqttbench> [rounds]
import BridgeCore
import Foundation
import Logging
import Mosquitto
import Synchronization
import TestSupport

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: CoreBenchmark <path to mqttbench> [rounds]")
    exit(2)
}
let cTool = arguments[1]
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    return logger
}()

/// The benchmark's own BrokerConnection over the real client (the product's lives in the executable).
struct ClientConnection: BrokerConnection {
    let client: MosquittoClient
    func publish(_ message: OutboundMessage) async throws { try enqueue(message) }
    func enqueue(_ message: OutboundMessage) throws {
        try client.send(message.topic, payload: message.payload, qos: QoS(rawValue: Int32(message.qos)) ?? .atMostOnce, retain: message.retain)
    }
    func subscribe(_ filter: String) async throws { try await client.subscribe(filter) }
    func unsubscribe(_ filter: String) { client.unsubscribe(filter) }
    var isConnected: Bool { client.isConnected }
    var supportsProperties: Bool { true }
    var brokerDescription: String { client.configuration.brokerDescription }
}

func subscriber(port: Int, filter: String, count: Int, qos: Int = 0) async throws -> (ChildProcess, URL) {
    let output = try TemporaryDirectory.make(prefix: "sub").appendingPathComponent("out.txt")
    let process = try ChildProcess(cTool, ["sub", "\(port)", filter, "\(qos)", "\(count)"], stdoutPath: output.path)
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        if (try? String(contentsOf: output, encoding: .utf8))?.contains("ready") == true { return (process, output) }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw TestSupportError("subscriber not ready")
}

/// Messages lost (QoS 0) across all rounds, reported at the end.
nonisolated(unsafe) var lostMessages = 0

/// Seconds between the first and last arrival, as measured by the subscriber, scaled to the
/// expected count when QoS 0 messages were lost (and the loss is counted).
func arrivalSpan(_ process: ChildProcess, _ output: URL, expected: Int) async throws -> Double {
    defer { try? FileManager.default.removeItem(at: output.deletingLastPathComponent()) }
    guard await process.waitForExit(timeout: .seconds(300)) == 0,
        let line = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").first(where: { $0.hasPrefix("done") })
    else { throw TestSupportError("subscriber failed") }
    let fields = line.split(separator: " ")
    guard fields.count == 4, let first = Double(fields[1]), let last = Double(fields[2]), let received = Int(fields[3]),
        received > 1, last > first
    else { throw TestSupportError("subscriber got \(line), expected \(expected)") }
    lostMessages += expected - received
    if received < expected { print("  a round lost \(expected - received) of \(expected) QoS 0 messages") }
    return (last - first) / 1e9 * Double(expected) / Double(received)
}

func sourceConfiguration(_ id: String) -> SourceConfiguration {
    SourceConfiguration(id: id, type: .tinyBMS, name: id, url: URL(string: "http://127.0.0.1:1"))
}

func mapping(_ yaml: String) throws -> MappingFile {
    try MappingLoader.load(yaml: yaml, file: "bench.yaml")
}

let batteryMapping = try mapping(
    """
    source: bench_bms
    device: { manufacturer: Bench, model: BMS }
    entities:
      - { id: pack_voltage, from: { endpoint: status, path: pack.voltage_mv, scale: 0.001 }, device_class: voltage, precision: 3 }
      - { id: soc, from: { endpoint: status, path: pack.soc }, device_class: battery, unit: "%" }
      - id: cell_voltage
        child: { kind: cell, endpoint: status, list: "cells[*]", id: $index }
        from: { path: voltage_mv, scale: 0.001 }
        device_class: voltage
        precision: 3
      - id: cell_temperature
        child: { kind: cell, endpoint: status, list: "cells[*]", id: $index }
        from: { path: temperature }
        device_class: temperature
    """)

let clientsMapping = try mapping(
    """
    source: bench_net
    entities:
      - id: rx_rate
        child: { kind: client, endpoint: clients, list: "items[*]", id: mac, name: name }
        from: { path: rx_bps }
        device_class: data_rate
        unit: bit/s
      - id: tx_rate
        child: { kind: client, endpoint: clients, list: "items[*]", id: mac, name: name }
        from: { path: tx_bps }
        device_class: data_rate
        unit: bit/s
      - id: connected
        component: binary_sensor
        child: { kind: client, endpoint: clients, list: "items[*]", id: mac, name: name }
        from: { path: active }
        device_class: connectivity
    """)

func batteryDocument(_ n: Int) -> JSONValue {
    let cells: [JSONValue] = (0..<16).map { cell in
        ["voltage_mv": .number(Double(3200 + (n + cell) % 400)), "temperature": .number(Double(20 + (n + cell) % 15))]
    }
    return ["pack": ["voltage_mv": .number(Double(51200 + n % 1000)), "soc": .number(Double(n % 100))], "cells": .array(cells)]
}

func clientsDocument(_ n: Int) -> JSONValue {
    var items: [JSONValue] = []
    items.reserveCapacity(1000)
    for index in 0..<1000 {
        let mac = String(format: "aa:bb:cc:%02x:%02x:%02x", index / 65536, (index / 256) % 256, index % 256)
        var item: [String: JSONValue] = [:]
        item["mac"] = .string(mac)
        item["name"] = .string("client \(index)")
        item["rx_bps"] = .number(Double(n * 10 + index))
        item["tx_bps"] = .number(Double(n * 7 + index))
        item["active"] = .bool((n + index) % 2 == 0)
        items.append(.object(item))
    }
    return ["items": .array(items)]
}

func withClient<T>(_ broker: MosquittoBroker, _ body: (MosquittoClient) async throws -> T) async throws -> T {
    let client = try MosquittoClient(
        configuration: MosquittoConfiguration(host: "127.0.0.1", port: broker.port, clientID: "bench-\(UUID().uuidString.prefix(6))", offlineQueueLimit: 1_000_000),
        logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        try await client.waitUntilConnected(timeout: .seconds(10))
        let result = try await body(client)
        // A QoS 1 message is acknowledged only after everything queued before it went out:
        // stopping the client earlier would drop the QoS 0 messages still in its queue.
        try await client.publish("bench/flush", payload: [], qos: .atLeastOnce)
        group.cancelAll()
        return result
    }
}

func makeBridge(_ client: MosquittoClient, base: String, mapping: MappingFile, id: String) -> SourcePublisher {
    makeBridge(ClientConnection(client: client), base: base, mapping: mapping, id: id)
}

/// A source bridge publishing through `connection`, with the benchmark's settings.
func makeBridge(_ connection: any BrokerConnection, base: String, mapping: MappingFile, id: String = "src") -> SourcePublisher {
    let context = DiscoveryContext(baseTopic: base, discoveryPrefix: "\(base)-ha")
    let settings = PublishSettings(republishInterval: .seconds(3600), staleCleanupWindow: .zero)
    return SourcePublisher(
        configuration: sourceConfiguration(id), mapping: mapping, context: context, settings: settings, broker: connection,
        discovery: DiscoveryPublisher(context: context, broker: connection, logger: logger),
        availability: AvailabilityPublisher(context: context, broker: connection, logger: logger), logger: logger)
}

/// Mapping + publish: returns (documents/s, readings/s, messages/s) and this process's CPU
/// seconds from the first measured document until the client had sent the last message.
func mappingRound(
    broker: MosquittoBroker, name: String, mapping: MappingFile, documents: Int, devicesPerDocument: Int,
    readingsPerDocument: Int, document: (Int) -> JSONValue
) async throws -> (rates: (Double, Double, Double), cpu: Double, network: Double) {
    var cpu = 0.0
    var network = 0.0
    let base = "bench\(name)\(UUID().uuidString.prefix(4).lowercased())"
    let expected = documents * devicesPerDocument
    // Documents are built before the clock starts, so only mapping and publishing are measured.
    let prepared = (0..<documents).map { document($0 + 1) }
    let endpoint = sampleEndpoint(mapping)
    let (process, output) = try await withClient(broker) { client in
        let bridge = makeBridge(client, base: base, mapping: mapping, id: "src")
        // Warm-up, not measured: the first document publishes discovery (3,000 retained QoS 1
        // configs for the list; discovery has its own figure below) and creates the retained
        // state topics. The subscriber starts once the broker has all of it, and does not count
        // the retained states it is sent on subscribing.
        await bridge.ingest(endpoint: endpoint, document: document(0))
        try await client.publish("bench/flush", payload: [], qos: .atLeastOnce)
        let subscription = try await subscriber(port: broker.port, filter: "\(base)/+", count: expected)
        let start = processCPUSeconds()
        let networkStart = networkThreadCPUSeconds()
        for document in prepared { await bridge.ingest(endpoint: endpoint, document: document) }
        try await client.publish("bench/flush", payload: [], qos: .atLeastOnce)
        cpu = processCPUSeconds() - start
        network = networkThreadCPUSeconds() - networkStart
        return subscription
    }
    let span = try await arrivalSpan(process, output, expected: expected)
    return ((Double(documents) / span, Double(documents * readingsPerDocument) / span, Double(expected) / span), cpu, network)
}

/// The endpoint the benchmark's mappings read.
func sampleEndpoint(_ mapping: MappingFile) -> String {
    mapping.entities[0].child?.endpoint ?? mapping.entities[0].sources.first?.endpoint ?? "status"
}

/// The raw client publishing `count` messages of `size` bytes to the bridge's own state topics
/// (`devices`, below a base topic of the same length as the bridge round's), in the bridge's
/// order: messages/s, and this process's CPU seconds for sending them.
///
/// With `work`, the client first spends that long busy before each document's burst of
/// `devices.count` messages: a producer as costly per document as the bridge, with no mapping.
func rawRound(
    broker: MosquittoBroker, name: String, count: Int, size: Int, devices: [String], work: Duration? = nil
) async throws -> (rate: Double, cpu: Double, network: Double) {
    var cpu = 0.0
    var network = 0.0
    let base = "bench\(name)\(UUID().uuidString.prefix(4).lowercased())"
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    let topics = devices.map { "\(base)/\($0)" }
    let (process, output) = try await withClient(broker) { client in
        // Retained, like the bridge's state messages (publish.retain defaults to true): the broker
        // does the same work for both. The same warm-up as the bridge's: every topic once.
        for topic in topics { try client.send(topic, payload: payload, retain: true) }
        try await client.publish("bench/flush", payload: [], qos: .atLeastOnce)
        let subscription = try await subscriber(port: broker.port, filter: "\(base)/+", count: count)
        let start = processCPUSeconds()
        let networkStart = networkThreadCPUSeconds()
        for index in 0..<count {
            if let work, index % topics.count == 0 {
                // CPU time of this thread, not elapsed time: a spin that is preempted must not
                // count the time it did not run, as the bridge's ingest does not progress then.
                let until = threadCPUSeconds() + Double(work.components.attoseconds) / 1e18 + Double(work.components.seconds)
                while threadCPUSeconds() < until {}
            }
            try client.send(topics[index % topics.count], payload: payload, retain: true)
        }
        try await client.publish("bench/flush", payload: [], qos: .atLeastOnce)
        cpu = processCPUSeconds() - start
        network = networkThreadCPUSeconds() - networkStart
        return subscription
    }
    return (Double(count) / (try await arrivalSpan(process, output, expected: count)), cpu, network)
}

/// The device ids one document publishes state for, in the order the bridge publishes them.
func publishedDevices(mapping: MappingFile, endpoint: String, document: JSONValue) async -> [String] {
    let connection = DroppingConnection(recordsTopics: true)
    let bridge = makeBridge(connection, base: "x", mapping: mapping)
    await bridge.ingest(endpoint: endpoint, document: document)
    return connection.topics.withLock { $0 }.filter { $0.split(separator: "/").count == 2 }.map { String($0.dropFirst(2)) }
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// CPU time of the calling thread so far, in seconds.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// CPU time so far of this process's threads named `mosquitto loop` (libmosquitto's network
/// thread; one per client, and a round has one client), in seconds, from the scheduler's
/// nanosecond count.
func networkThreadCPUSeconds() -> Double {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return 0 }
    var total = 0.0
    for task in tasks {
        guard (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.hasPrefix("mosquitto loop") == true,
            let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8),
            let nanoseconds = stat.split(separator: " ").first.flatMap({ Double($0) })
        else { continue }
        total += nanoseconds / 1e9
    }
    return total
}

/// User + system CPU time of this process so far, in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// A broker port that drops everything: isolates the CPU cost of mapping and state building.
/// It counts what it is handed and, only when asked (not while CPU is measured), records topics.
final class DroppingConnection: BrokerConnection {
    let count = Mutex(0)
    let topics = Mutex<[String]>([])
    let recordsTopics: Bool
    init(recordsTopics: Bool = false) { self.recordsTopics = recordsTopics }
    func publish(_ message: OutboundMessage) async throws {}
    func enqueue(_ message: OutboundMessage) throws {
        count.withLock { $0 += 1 }
        if recordsTopics { topics.withLock { $0.append(message.topic) } }
    }
    func subscribe(_ filter: String) async throws {}
    func unsubscribe(_ filter: String) {}
    var isConnected: Bool { true }
    var supportsProperties: Bool { true }
    var brokerDescription: String { "none" }
}

/// Microseconds per document: the mapping engine alone, and the whole ingest with no broker.
func cpuBreakdown(mapping: MappingFile, endpoint: String, documents: [JSONValue]) async -> (engine: Double, ingest: Double) {
    // Process CPU time (this work is all the process does meanwhile), not elapsed time.
    let engine = MappingEngine()
    var start = processCPUSeconds()
    for document in documents { _ = engine.readings(endpoint: endpoint, document: document, mapping: mapping) }
    let engineTime = processCPUSeconds() - start
    let connection = DroppingConnection()
    let bridge = makeBridge(connection, base: "cpu", mapping: mapping)
    await bridge.ingest(endpoint: endpoint, document: documents[0])
    start = processCPUSeconds()
    for document in documents.dropFirst() { await bridge.ingest(endpoint: endpoint, document: document) }
    let ingestTime = processCPUSeconds() - start
    print("  \(connection.count.withLock { $0 }) messages from \(documents.count) documents")
    return (engineTime * 1e6 / Double(documents.count), ingestTime * 1e6 / Double(documents.count - 1))
}

// CPU_ONLY=battery or CPU_ONLY=list: one document shape alone (for profiling it).
let cpuOnly = ProcessInfo.processInfo.environment["CPU_ONLY"]

// CPU_ONLY=parse: reading a document's bytes into a JSONValue, the parser against Foundation's
// JSONDecoder (through JSONValue's Codable conformance), alternating, medians of 5.
if cpuOnly == "parse" {
    for (label, document, count) in [("battery", batteryDocument(1), 20_000), ("1,000-item list", clientsDocument(1), 100)] {
        let bytes = document.jsonBytes
        var parser: [Double] = []
        var foundation: [Double] = []
        for _ in 0..<5 {
            var start = processCPUSeconds()
            for _ in 0..<count { _ = try JSONValue(parsing: bytes) }
            parser.append((processCPUSeconds() - start) * 1e6 / Double(count))
            start = processCPUSeconds()
            for _ in 0..<count { _ = try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) }
            foundation.append((processCPUSeconds() - start) * 1e6 / Double(count))
        }
        print(
            String(
                format: "parse %@ (%d bytes): parser %.1f µs, JSONDecoder %.1f µs, ratio %.2f", label, bytes.count, median(parser),
                median(foundation), median(parser) / median(foundation)))
    }
    exit(0)
}
// PATH_ONLY (below) profiles one path with a broker: step 0 is left out, so that a profile of
// the process holds only that path.
let pathOnly = ProcessInfo.processInfo.environment["PATH_ONLY"] != nil
// CPU_DOCUMENTS=N: step 0 reads N documents of each shape (at least 2; for instruction counts
// under valgrind, where the defaults, 20,000 battery and 300 or 30 list documents, take long).
let cpuDocuments = ProcessInfo.processInfo.environment["CPU_DOCUMENTS"].flatMap { Int($0) }.map { max($0, 2) }
let batteryCPU =
    cpuOnly == "list" || pathOnly
    ? (engine: 0.0, ingest: 0.0)
    : await cpuBreakdown(mapping: batteryMapping, endpoint: "status", documents: (1...(cpuDocuments ?? 20000)).map(batteryDocument))
let clientsCPU =
    cpuOnly == "battery" || pathOnly
    ? (engine: 0.0, ingest: 0.0)
    : await cpuBreakdown(
        mapping: clientsMapping, endpoint: "clients", documents: (1...(cpuDocuments ?? (cpuOnly == "list" ? 300 : 30))).map(clientsDocument))
print(
    String(
        format: "CPU per document, no broker: battery engine %.1f µs, ingest %.1f µs; 1,000-item list engine %.0f µs, ingest %.0f µs",
        batteryCPU.engine, batteryCPU.ingest, clientsCPU.engine, clientsCPU.ingest))

if ProcessInfo.processInfo.environment["CPU_ONLY"] != nil { exit(0) }

// The broker logs as deployed (mosquitto's default log types); BROKER_LOG_ALL=1 logs every
// packet, as the tests' brokers do, which makes the broker slower for both paths.
let broker = try await MosquittoBroker.start(
    .init(extraConfiguration: ["max_queued_messages 0"], logsEveryPacket: ProcessInfo.processInfo.environment["BROKER_LOG_ALL"] == "1"))
defer { broker.shutDown() }
print("BridgeCore benchmark, \(rounds) rounds, loopback mosquitto, medians")

/// Alternates mapping rounds and raw-client rounds with the same message count, size and topic
/// count, and prints the medians and their ratio.
func compare(
    _ label: String, name: String, mapping: MappingFile, documents: Int, devicesPerDocument: Int,
    readingsPerDocument: Int, sample: JSONValue, document: (Int) -> JSONValue, ingestMicroseconds: Double
) async throws {
    let size = sample.jsonBytes.count
    let work = Duration.nanoseconds(Int64(ingestMicroseconds * 1000))
    var busy: [Double] = []
    let devices = await publishedDevices(mapping: mapping, endpoint: sampleEndpoint(mapping), document: document(0))
    guard devices.count == devicesPerDocument else {
        throw TestSupportError("\(label): one document published \(devices.count) state messages, expected \(devicesPerDocument)")
    }
    var bridged: [(Double, Double, Double)] = []
    var raw: [Double] = []
    // This process's CPU time per message of each round (mapping + client, or client alone).
    var bridgedCPU: [Double] = []
    var rawCPU: [Double] = []
    // … and of that, the client's network thread's (libmosquitto's, writing to the socket).
    var bridgedNetwork: [Double] = []
    var rawNetwork: [Double] = []
    let messages = Double(documents * devicesPerDocument)
    // PATH_ONLY=bridge or PATH_ONLY=raw runs one path alone (for profiling it); no ratio then.
    let only = ProcessInfo.processInfo.environment["PATH_ONLY"]
    for round in 0..<rounds {
        if only == "raw" {
            let rawResult = try await rawRound(broker: broker, name: name, count: documents * devicesPerDocument, size: size, devices: devices)
            print(
                String(
                    format: "  raw client: %.0f messages/s, %.2f µs CPU per message, %.2f µs of it in the network thread", rawResult.rate,
                    rawResult.cpu / messages * 1e6, rawResult.network / messages * 1e6))
            continue
        }
        if only == "bridge" {
            let bridgeRound = try await mappingRound(
                broker: broker, name: name, mapping: mapping, documents: documents,
                devicesPerDocument: devicesPerDocument, readingsPerDocument: readingsPerDocument, document: document)
            print(
                String(
                    format: "  bridge: %.0f messages/s, %.2f µs CPU per message, %.2f µs of it in the network thread", bridgeRound.rates.2,
                    bridgeRound.cpu / messages * 1e6, bridgeRound.network / messages * 1e6))
            continue
        }
        // The three runs of a round take turns going first, so that none of them always meets
        // the machine (and the broker's growing retained store) in the same state.
        for run in 0..<3 {
            switch (run + round) % 3 {
            case 0:
                let bridgeRound = try await mappingRound(
                    broker: broker, name: name, mapping: mapping, documents: documents,
                    devicesPerDocument: devicesPerDocument, readingsPerDocument: readingsPerDocument, document: document)
                bridged.append(bridgeRound.rates)
                bridgedCPU.append(bridgeRound.cpu / messages * 1e6)
                bridgedNetwork.append(bridgeRound.network / messages * 1e6)
            case 1:
                let rawResult = try await rawRound(
                    broker: broker, name: name, count: documents * devicesPerDocument, size: size, devices: devices)
                raw.append(rawResult.rate)
                rawCPU.append(rawResult.cpu / messages * 1e6)
                rawNetwork.append(rawResult.network / messages * 1e6)
            default:
                busy.append(
                    try await rawRound(
                        broker: broker, name: name, count: documents * devicesPerDocument, size: size, devices: devices, work: work
                    ).rate)
            }
        }
    }
    guard only == nil else { return }
    print(
        String(
            format: "%@: %.1f documents/s, %.0f readings/s, %.0f messages/s; raw client %.0f messages/s (%d-byte payloads); ratio %.2f",
            label, median(bridged.map(\.0)), median(bridged.map(\.1)), median(bridged.map(\.2)), median(raw), size,
            median(bridged.map(\.2)) / median(raw)))
    // Each mapping round and the raw round right after it share the machine's state of the
    // moment; their ratio is steadier than the ratio of medians on a shared box.
    let pairs = zip(bridged.map(\.2), raw).map { $0 / $1 }
    print("  per-round ratios: \(pairs.map { String(format: "%.2f", $0) }.joined(separator: " ")); median \(String(format: "%.2f", median(pairs)))")
    print(
        String(
            format: "  CPU of the publishing process per message (medians): bridge %.2f µs, raw client %.2f µs; of it in the client's network thread: bridge %.2f µs, raw client %.2f µs",
            median(bridgedCPU), median(rawCPU), median(bridgedNetwork), median(rawNetwork)))
    // What the bridge's CPU per document costs by itself on this machine: the raw client
    // spending as long busy before each document (the bridge's measured ingest time, no broker).
    // The bridge against it shows what is left besides that cost.
    let busyPairs = zip(bridged.map(\.2), busy).map { $0 / $1 }
    print(
        String(
            format: "  raw client busy %.1f µs before each document (the bridge's ingest CPU): %.0f messages/s, %.2f of the raw client; bridge / that: median per round %.2f",
            ingestMicroseconds, median(busy), median(busy) / median(raw), median(busyPairs)))
}

// The sample payloads are one device message each, so the raw baseline sends the same size.
try await compare(
    "16-cell battery document", name: "bms", mapping: batteryMapping, documents: 2000, devicesPerDocument: 17,
    readingsPerDocument: 34, sample: ["cell_temperature": 27, "cell_voltage": 3.456], document: batteryDocument,
    ingestMicroseconds: batteryCPU.ingest)
try await compare(
    "1,000-item list document", name: "net", mapping: clientsMapping, documents: 30, devicesPerDocument: 1000,
    readingsPerDocument: 3000, sample: ["connected": true, "rx_rate": 12345, "tx_rate": 6789], document: clientsDocument,
    ingestMicroseconds: clientsCPU.ingest)

if ProcessInfo.processInfo.environment["PATH_ONLY"] != nil {
    broker.shutDown()  // exit skips the defer
    exit(0)
}

// Discovery for 20,000 entities: 2,000 children × 10 entities.
let discoveryEntities = (0..<10).map { index in
    """
      - id: value_\(index)
        child: { kind: item, endpoint: items, list: "items[*]", id: id }
        from: { path: v\(index) }
        device_class: power
    """
}.joined(separator: "\n")
let discoveryMapping = try mapping("source: bench_discovery\nentities:\n" + discoveryEntities)
var discoveryItems: [JSONValue] = []
for item in 0..<2000 {
    var object: [String: JSONValue] = ["id": .string("item\(item)")]
    for value in 0..<10 { object["v\(value)"] = .number(Double(item)) }
    discoveryItems.append(.object(object))
}
let discoveryDocument: JSONValue = ["items": .array(discoveryItems)]
var discoveryTimes: [Double] = []
for _ in 0..<rounds {
    let base = "disc\(UUID().uuidString.prefix(4).lowercased())"
    let (process, output) = try await subscriber(port: broker.port, filter: "\(base)-ha/#", count: 20_000, qos: 1)
    var elapsed = 0.0
    try await withClient(broker) { client in
        let bridge = makeBridge(client, base: base, mapping: discoveryMapping, id: "src")
        let start = ContinuousClock.now
        await bridge.ingest(endpoint: "items", document: discoveryDocument)
        guard await process.waitForExit(timeout: .seconds(120)) == 0 else { throw TestSupportError("discovery subscriber failed") }
        let duration = ContinuousClock.now - start
        elapsed = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
    try? FileManager.default.removeItem(at: output.deletingLastPathComponent())
    discoveryTimes.append(elapsed)
}
print(
    String(
        format: "discovery for 20,000 entities (2,000 child devices × 10): median %.2f s until the subscriber had all (rounds: %@)",
        median(discoveryTimes), discoveryTimes.map { String(format: "%.2f", $0) }.joined(separator: " ")))
print("QoS 0 state messages lost in all rounds: \(lostMessages)")
