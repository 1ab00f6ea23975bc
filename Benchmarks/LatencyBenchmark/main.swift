// Latency from the Cozify HAN simulator emitting an SSE meter event to an MQTT subscriber
// receiving the state message, through the real `api2mqtt` executable, against a direct relay
// (the same SSE client, each event's data published raw) measured in the same run.
//
// Usage: LatencyBenchmark <api2mqtt binary> [events] [events per second] [rounds]
// (Benchmarks/run-latency-benchmark builds everything and passes the paths.)
//
// One process hosts the simulator, the subscriber and the relay; the bridge runs as its own
// process, as deployed. Each telegram carries a sequence number in its cumulative energy
// (`ic` = 1000 + n / 1000 kWh, which the mapping publishes as `energy_import` with three
// decimals), so every arrival is matched to its emission; the first arrival per telegram counts.
// Rounds alternate relay and bridge so that background load hits both alike.
import BridgeCore
import Foundation
import Logging
import Mosquitto
import Simulators
import SourceKit
import Synchronization
import TestSupport

var logger = Logger(label: "bench")
logger.logLevel = .warning

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: LatencyBenchmark <api2mqtt binary> [events] [events per second] [rounds]")
    exit(2)
}
let api2mqtt = arguments[1]
let events = arguments.count > 2 ? Int(arguments[2]) ?? 10_000 : 10_000
let rate = arguments.count > 3 ? Int(arguments[3]) ?? 1_000 : 1_000
let rounds = arguments.count > 4 ? Int(arguments[4]) ?? 3 : 3

/// Emission and arrival instants per sequence number, for one measured path.
final class Timeline: Sendable {
    let sent = Mutex<[Int: ContinuousClock.Instant]>([:])
    let arrived = Mutex<[Int: ContinuousClock.Instant]>([:])

    func arrival(_ sequence: Int, at instant: ContinuousClock.Instant) {
        arrived.withLock { if $0[sequence] == nil { $0[sequence] = instant } }
    }

    var arrivals: Int { arrived.withLock { $0.count } }

    /// Latencies in ms of the telegrams in `range` that arrived.
    func latencies(_ range: Range<Int>) -> [Double] {
        let sent = self.sent.withLock { $0 }
        let arrived = self.arrived.withLock { $0 }
        return range.compactMap { sequence in
            guard let start = sent[sequence], let end = arrived[sequence] else { return nil }
            let duration = end - start
            return Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        }
    }
}

/// The sequence number carried by a telegram's energy register.
func sequence(fromEnergy value: Double) -> Int { Int(((value - 1000) * 1000).rounded()) }

func telegram(_ sequence: Int) -> CozifyHANTelegram {
    let power = Double(500 + sequence % 1000)
    return CozifyHANTelegram(
        ts: Int64(Date().timeIntervalSince1970 * 1000), ic: 1000 + Double(sequence) / 1000, ec: 10, ric: 1, rec: 1,
        p: [power, power / 3, power / 3, power / 3], pi: [power, power / 3, power / 3, power / 3], pe: [0, 0, 0, 0],
        r: [10, 3, 3, 4], ri: [10, 3, 3, 4], re: [0, 0, 0, 0], u: [230.1, 231.2, 229.9], i: [1.1, 1.2, 1.3])
}

/// The number following `key` in a JSON payload: a byte scan, so that the subscriber's own cost
/// stays small next to what is measured (a full parse of each 1.5 KB state message would not).
func number(after key: [UInt8], in payload: [UInt8]) -> Double? {
    guard payload.count > key.count else { return nil }
    var index = 0
    while index + key.count <= payload.count {
        if payload[index] == key[0] && Array(payload[index..<(index + key.count)]) == key {
            var end = index + key.count
            while end < payload.count, payload[end] != UInt8(ascii: ","), payload[end] != UInt8(ascii: "}") { end += 1 }
            return Double(String(decoding: payload[(index + key.count)..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces))
        }
        index += 1
    }
    return nil
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func median(_ values: [Double]) -> Double { percentile(values.sorted(), 0.5) }

func format(_ value: Double) -> String { String(format: "%.3f", value) }

/// Emits `count` telegrams from `first` at `rate` per second and waits for their arrival (or 10 s of silence).
func drive(_ simulator: CozifyHANSimulator, _ timeline: Timeline, first: Int, count: Int) async throws {
    let start = ContinuousClock.now
    let interval = Duration.seconds(1) / rate
    for index in 0..<count {
        let sequence = first + index
        let due = start + interval * index
        if ContinuousClock.now < due { try await Task.sleep(until: due, clock: .continuous) }
        let message = telegram(sequence)
        timeline.sent.withLock { $0[sequence] = .now }
        simulator.emit(message)
    }
    var last = timeline.arrivals
    var quietSince = ContinuousClock.now
    while timeline.arrivals < timeline.sent.withLock({ $0.count }) && ContinuousClock.now - quietSince < .seconds(10) {
        try await Task.sleep(for: .milliseconds(20))
        if timeline.arrivals != last {
            last = timeline.arrivals
            quietSince = .now
        }
    }
}

/// Sends telegrams until the path delivers one (the bridge or relay is connected and streaming).
func warmUp(_ simulator: CozifyHANSimulator, _ timeline: Timeline, from start: Int) async throws -> Int {
    var sequence = start
    let deadline = ContinuousClock.now + .seconds(60)
    while timeline.arrivals == 0 {
        guard ContinuousClock.now < deadline else { throw TestSupportError("no state message within 60 s") }
        timeline.sent.withLock { $0[sequence] = .now }
        simulator.emit(telegram(sequence))
        sequence += 1
        try await Task.sleep(for: .milliseconds(200))
    }
    // Let start-up reads (configuration, health, han) settle before measuring.
    try await Task.sleep(for: .seconds(1))
    return sequence
}

struct RoundResult {
    var p50: Double
    var p99: Double
    var max: Double
    var lost: Int
}

func summarize(_ timeline: Timeline, _ range: Range<Int>) -> RoundResult {
    let latencies = timeline.latencies(range).sorted()
    return RoundResult(
        p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.last ?? .nan,
        lost: range.count - latencies.count)
}

// mosquitto leaves Nagle's algorithm on towards subscribers unless told otherwise; with it, a
// 1.2 KB state message every millisecond waits for the subscriber's delayed ACK (tens of ms),
// which measures the broker's socket options rather than the bridge. NAGLE=1 keeps the default.
let nagle = ProcessInfo.processInfo.environment["NAGLE"] != nil
let broker = try await MosquittoBroker.start(
    .init(extraConfiguration: nagle ? [] : ["set_tcp_nodelay true"], logsEveryPacket: false))
let simulator = CozifyHANSimulator(configuration: .init(telegramInterval: .seconds(3600), meterDelay: nil))
let port = try await simulator.start()
let subscriber = try MosquittoClient(
    configuration: MosquittoConfiguration(host: "127.0.0.1", port: broker.port, clientID: "latency-subscriber"), logger: logger)
let publisher = try MosquittoClient(
    configuration: MosquittoConfiguration(host: "127.0.0.1", port: broker.port, clientID: "latency-relay"), logger: logger)
let pool = HTTPClientPool(logger: logger)
let current = Mutex<Timeline?>(nil)

print("Cozify HAN SSE → MQTT latency: \(events) events at \(rate)/s per round, \(rounds) rounds per path, broker set_tcp_nodelay \(nagle ? "false (NAGLE=1)" : "true")")
var relayResults: [RoundResult] = []
var bridgeResults: [RoundResult] = []
var nextSequence = 0

try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await subscriber.run() }
    group.addTask { try await publisher.run() }
    try await subscriber.waitUntilConnected(timeout: .seconds(10))
    try await publisher.waitUntilConnected(timeout: .seconds(10))
    try await subscriber.subscribe("bench/relay")
    try await subscriber.subscribe("api2mqtt/han")
    group.addTask {
        for await message in subscriber.messages {
            let instant = ContinuousClock.now
            guard let timeline = current.withLock({ $0 }) else { continue }
            let key = message.topic == "bench/relay" ? Array(#""ic":"#.utf8) : Array(#""energy_import":"#.utf8)
            guard let value = number(after: key, in: message.payload) else { continue }
            timeline.arrival(sequence(fromEnergy: value), at: instant)
        }
    }

    for round in 1...rounds {
        // Direct relay: the same SSE client as the adapter, each meter event's data published raw.
        do {
            let timeline = Timeline()
            current.withLock { $0 = timeline }
            let client = SourceHTTPClient(
                configuration: .init(baseURL: try SourceURL("http://127.0.0.1:\(port)")), pool: pool, logger: logger)
            let relay = Task {
                for try await event in client.events("/sse") where event.data.contains("HAN_METER_MESSAGE") {
                    try publisher.send("bench/relay", payload: Array(event.data.utf8))
                }
            }
            nextSequence = try await warmUp(simulator, timeline, from: nextSequence)
            let first = nextSequence
            try await drive(simulator, timeline, first: first, count: events)
            nextSequence += events
            relay.cancel()
            let result = summarize(timeline, first..<(first + events))
            relayResults.append(result)
            print("round \(round) relay:  p50 \(format(result.p50)) ms  p99 \(format(result.p99)) ms  max \(format(result.max)) ms  lost \(result.lost)")
        }
        // The bridge: api2mqtt run against the simulator.
        do {
            let timeline = Timeline()
            current.withLock { $0 = timeline }
            let directory = try TemporaryDirectory.make(prefix: "latency")
            let config = directory.appendingPathComponent("api2mqtt.yaml")
            try """
                mqtt:
                  url: mqtt://127.0.0.1:\(broker.port)
                  client_id: latency-bridge
                homeassistant:
                  enabled: false
                http:
                  enabled: false
                log:
                  level: warning
                sources:
                  - id: han
                    type: cozify_han
                    url: http://127.0.0.1:\(port)
                    poll_interval: 60s
                """.write(to: config, atomically: true, encoding: .utf8)
            let bridge = try ChildProcess(
                api2mqtt, ["run", "--config", config.path], stdoutPath: directory.appendingPathComponent("bridge.log").path,
                stderrPath: directory.appendingPathComponent("bridge.log").path)
            nextSequence = try await warmUp(simulator, timeline, from: nextSequence)
            let first = nextSequence
            try await drive(simulator, timeline, first: first, count: events)
            nextSequence += events
            bridge.terminate(grace: .seconds(5))
            let result = summarize(timeline, first..<(first + events))
            bridgeResults.append(result)
            print("round \(round) bridge: p50 \(format(result.p50)) ms  p99 \(format(result.p99)) ms  max \(format(result.max)) ms  lost \(result.lost)")
        }
    }
    group.cancelAll()
}

let relayP50 = median(relayResults.map(\.p50))
let relayP99 = median(relayResults.map(\.p99))
let bridgeP50 = median(bridgeResults.map(\.p50))
let bridgeP99 = median(bridgeResults.map(\.p99))
print("")
print("median of \(rounds) rounds (ms)      p50       p99")
print("direct relay               \(format(relayP50))    \(format(relayP99))")
print("api2mqtt bridge            \(format(bridgeP50))    \(format(bridgeP99))")
print("added by the bridge        \(format(bridgeP50 - relayP50))    \(format(bridgeP99 - relayP99))   (target: ≤ 1 ms p99 added)")
print("lost: relay \(relayResults.map(\.lost).reduce(0, +)), bridge \(bridgeResults.map(\.lost).reduce(0, +))")
await pool.shutdown()
await simulator.stop()
broker.shutDown()
