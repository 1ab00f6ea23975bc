import BridgeCore
import Foundation
import Logging
import Mosquitto
import Simulators
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

// MARK: Statistics and formatting

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

/// Least-squares slope of `y` over `x`.
func slope(_ points: [(x: Double, y: Double)]) -> Double {
    guard points.count >= 2 else { return .nan }
    let n = Double(points.count)
    let meanX = points.reduce(0) { $0 + $1.x } / n
    let meanY = points.reduce(0) { $0 + $1.y } / n
    let sxx = points.reduce(0) { $0 + ($1.x - meanX) * ($1.x - meanX) }
    let sxy = points.reduce(0) { $0 + ($1.x - meanX) * ($1.y - meanY) }
    return sxx == 0 ? .nan : sxy / sxx
}

func format(_ value: Double, _ decimals: Int = 2) -> String { String(format: "%.\(decimals)f", value) }

func row(_ label: String, _ value: String) {
    print("  " + label.padding(toLength: 58, withPad: " ", startingAt: 0) + value)
}

// MARK: MQTT sessions

/// One MQTT client of the suite: connected, its messages handed to `onMessage` with their
/// arrival instant, closed by ``close()``.
final class Session: Sendable {
    let client: MosquittoClient
    private let tasks: Mutex<[Task<Void, Never>]>

    private init(client: MosquittoClient, tasks: [Task<Void, Never>]) {
        self.client = client
        self.tasks = Mutex(tasks)
    }

    static func open(
        port: Int, clientID: String, publishTimeout: Duration = .seconds(10),
        onMessage: @escaping @Sendable (MQTTMessage, ContinuousClock.Instant) -> Void = { _, _ in }
    ) async throws -> Session {
        var logger = Logger(label: "fault-suite.\(clientID)")
        logger.logLevel = .critical
        let client = try MosquittoClient(
            configuration: MosquittoConfiguration(
                host: "127.0.0.1", port: port, clientID: clientID, publishTimeout: publishTimeout,
                incomingBufferLimit: 1_000_000),
            logger: logger)
        let run = Task {
            do { try await client.run() } catch {}
        }
        let consume = Task {
            for await message in client.messages { onMessage(message, .now) }
        }
        let session = Session(client: client, tasks: [run, consume])
        do {
            try await client.waitUntilConnected(timeout: .seconds(10))
        } catch {
            await session.close()
            throw error
        }
        return session
    }

    func subscribe(_ filters: [String]) async throws {
        for filter in filters { try await client.subscribe(filter, qos: .atLeastOnce) }
    }

    /// Cancels the client (clean disconnect when connected) and waits for it to stop.
    func close() async {
        let tasks = self.tasks.withLock { tasks in defer { tasks = [] }; return tasks }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}

// MARK: The bridge under test

/// The real `api2mqtt` executable with one Cozify HAN source, its log in a temporary directory
/// and `/metrics` on a free loopback port.
struct BridgeUnderTest {
    let process: ChildProcess
    let directory: URL
    let logFile: URL
    let httpPort: Int

    static func start(
        api2mqtt: String, brokerPort: Int, simulatorPort: Int, logLevel: String = "info", extraSource: String = ""
    ) throws -> BridgeUnderTest {
        let directory = try TemporaryDirectory.make(prefix: "fault-suite")
        let httpPort = try FreePort.find()
        let config = directory.appendingPathComponent("api2mqtt.yaml")
        try """
            mqtt:
              url: mqtt://127.0.0.1:\(brokerPort)
              client_id: fault-suite-bridge
            http:
              listen: 127.0.0.1:\(httpPort)
            log:
              level: \(logLevel)
            sources:
              - id: han
                type: cozify_han
                name: HAN reader
                url: http://127.0.0.1:\(simulatorPort)
            \(extraSource)
            """.write(to: config, atomically: true, encoding: .utf8)
        let logFile = directory.appendingPathComponent("bridge.log")
        let process = try ChildProcess(
            api2mqtt, ["run", "--config", config.path], stdoutPath: logFile.path, stderrPath: logFile.path)
        return BridgeUnderTest(process: process, directory: directory, logFile: logFile, httpPort: httpPort)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Log lines at warning or above (`<time> <level> <label>: …`), and lines that tell of a crash.
    func warnings() -> [Substring] {
        log.split(separator: "\n").filter { line in
            let level = line.split(separator: " ", maxSplits: 2).dropFirst().first ?? ""
            return ["warning", "error", "critical"].contains(level) || line.contains("Fatal error")
        }
    }

    /// A log line's message (what follows `[<source>] `).
    static func message(of line: Substring) -> Substring {
        guard let range = line.range(of: "] ", options: .backwards) else { return line }
        return line[range.upperBound...]
    }

    /// The bridge's Prometheus counters (`/metrics`), by metric name without labels; empty when
    /// unavailable (curl missing, HTTP server down).
    func metrics() -> [String: Double] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"),
            let text = try? Subprocess.run("/usr/bin/curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(httpPort)/metrics"])
        else { return [:] }
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let value = Double(parts[parts.count - 1]) else { continue }
            values[String(parts[0]), default: 0] += value
        }
        return values
    }

    func printMetrics(_ names: [String]) {
        let values = metrics()
        guard !values.isEmpty else {
            row("bridge /metrics", "unavailable")
            return
        }
        for name in names {
            let key = values.keys.filter { $0.hasSuffix(name) }.sorted().first
            row("bridge /metrics \(name)", key.flatMap { values[$0] }.map { format($0, 0) } ?? "absent")
        }
    }

    /// Stops the bridge (SIGTERM, SIGKILL after 10 s) and returns its exit status.
    func stop() -> Int32? {
        process.terminate(grace: .seconds(10))
        return process.terminationStatus
    }

    func removeFiles() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Prints the last lines of the log (for a failed run).
    func printTail(_ count: Int = 30) {
        print("bridge log (last \(count) lines, \(logFile.path)):")
        for line in log.split(separator: "\n").suffix(count) { print("  \(line)") }
    }
}

/// Waits until `condition` holds, polling every 20 ms; false after `timeout` (a guard against
/// hangs only: every wait is for an event).
func waitFor(_ timeout: Duration, every interval: Duration = .milliseconds(20), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
    return true
}

/// What a command's HTTP call leaves in the HAN simulator's request log: a POST (configuration,
/// set-up) or a GET that starts a Wi-Fi scan. Polls (GETs) are not commands.
func isCommandCall(_ request: RecordedRequest) -> Bool {
    request.method != "GET" || request.headers["x-scan-start"] != nil
}

/// A value behind a lock, as a class: a local `Mutex` cannot be captured by escaping closures.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }

    var value: Value { withLock { $0 } }
}
