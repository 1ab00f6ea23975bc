// Publish throughput of the `Mosquitto` client against libmosquitto used directly from C.
//
// For each QoS (0 and 1) and each round, a C subscriber (Benchmarks/c/mqttbench.c) counts
// arrivals on a loopback mosquitto, and one publisher sends N 100-byte messages as fast as its
// library takes them: our Swift client (`send`, no per-message wait) or the C baseline. The
// figure is N / (last arrival - first arrival) measured by the subscriber, so process start-up
// and connection set-up are outside the measurement for both. Rounds alternate between the two
// publishers; the medians and their ratio are printed.
//
// Usage: MosquittoBenchmark <path to mqttbench> [messages per round] [rounds]
import Foundation
import Logging
import Mosquitto
import TestSupport

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: MosquittoBenchmark <path to mqttbench> [messages] [rounds]")
    exit(2)
}
let cTool = arguments[1]
let messageCount = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
let rounds = arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5
let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 100)

/// Starts the C subscriber and waits until it has subscribed.
func startSubscriber(port: Int, topic: String, qos: Int, output: URL) async throws -> ChildProcess {
    let process = try ChildProcess(
        cTool, ["sub", "\(port)", topic, "\(qos)", "\(messageCount)"], stdoutPath: output.path)
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        if let text = try? String(contentsOf: output, encoding: .utf8), text.contains("ready") { return process }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw TestSupportError("subscriber did not become ready")
}

/// Waits for the subscriber to count everything; returns messages per second.
func awaitThroughput(_ subscriber: ChildProcess, output: URL) async throws -> Double {
    guard await subscriber.waitForExit(timeout: .seconds(180)) == 0 else { throw TestSupportError("subscriber failed") }
    let text = try String(contentsOf: output, encoding: .utf8)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("done") }) else {
        throw TestSupportError("no result from the subscriber")
    }
    let fields = line.split(separator: " ")
    guard fields.count == 4, let first = Double(fields[1]), let last = Double(fields[2]), let count = Int(fields[3]),
        count == messageCount, last > first
    else { throw TestSupportError("bad subscriber result: \(line)") }
    return Double(messageCount) / ((last - first) / 1e9)
}

func swiftRound(broker: MosquittoBroker, qos: QoS, directory: URL, round: Int) async throws -> Double {
    let topic = "bench/swift/\(qos.rawValue)/\(round)"
    let output = directory.appendingPathComponent("swift-\(qos.rawValue)-\(round).txt")
    let subscriber = try await startSubscriber(port: broker.port, topic: topic, qos: Int(qos.rawValue), output: output)
    let configuration = MosquittoConfiguration(
        host: "127.0.0.1", port: broker.port, clientID: "bench-swift-\(round)", offlineQueueLimit: messageCount)
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    let client = try MosquittoClient(configuration: configuration, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        try await client.waitUntilConnected(timeout: .seconds(10))
        for _ in 0..<messageCount {
            try client.send(topic, payload: payload, qos: qos)
        }
        let throughput = try await awaitThroughput(subscriber, output: output)
        group.cancelAll()
        return throughput
    }
}

func cRound(broker: MosquittoBroker, qos: QoS, directory: URL, round: Int) async throws -> Double {
    let topic = "bench/c/\(qos.rawValue)/\(round)"
    let output = directory.appendingPathComponent("c-\(qos.rawValue)-\(round).txt")
    let subscriber = try await startSubscriber(port: broker.port, topic: topic, qos: Int(qos.rawValue), output: output)
    let publisher = try ChildProcess(
        cTool, ["pub", "\(broker.port)", topic, "\(qos.rawValue)", "\(messageCount)", "\(payload.count)"])
    let throughput = try await awaitThroughput(subscriber, output: output)
    await publisher.waitForExit(timeout: .seconds(60))
    return throughput
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

let directory = try TemporaryDirectory.make(prefix: "bench")
let broker = try await MosquittoBroker.start(
    .init(extraConfiguration: ["max_queued_messages 0", "max_inflight_messages 0"], logsEveryPacket: false))
defer { broker.shutDown() }
print("publish throughput, \(messageCount) messages of \(payload.count) bytes per round, \(rounds) rounds, loopback mosquitto")
for qos in [QoS.atMostOnce, .atLeastOnce] {
    var swift: [Double] = []
    var c: [Double] = []
    for round in 0..<rounds {
        c.append(try await cRound(broker: broker, qos: qos, directory: directory, round: round))
        swift.append(try await swiftRound(broker: broker, qos: qos, directory: directory, round: round))
    }
    let ratio = median(swift) / median(c)
    print(
        String(
            format: "QoS %d: Swift Mosquitto median %.0f msg/s, C libmosquitto median %.0f msg/s, ratio %.2f  (swift rounds: %@; c rounds: %@)",
            Int(qos.rawValue), median(swift), median(c), ratio,
            swift.map { String(format: "%.0f", $0) }.joined(separator: " "),
            c.map { String(format: "%.0f", $0) }.joined(separator: " ")))
}
