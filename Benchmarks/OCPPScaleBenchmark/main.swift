// OCPP CSMS at scale: N charge points × 2 connectors on the simulator, the real `api2mqtt run`
// as a child process. Per N: the time until every discovery config of the CSMS, its charge
// points and their connectors reached a subscriber on `homeassistant/#`, then the bridge's steady
// RSS (VmRSS split into RssAnon and RssFile, from /proc/<pid>/status) and CPU per poll round over
// a few poll intervals.
//
// Usage: OCPPScaleBenchmark <api2mqtt binary>[,<another binary>…] [sizes, e.g. 10,100,1000] [rounds] [polls measured] [poll interval s]
// (Benchmarks/run-ocpp-scale-benchmark builds everything and passes the paths.) With several
// binaries (side by side: an old and a new build), every round runs each size with each binary in
// turn, the order of the binaries alternating from round to round, and the table has a row per
// binary and size.
//
// One process hosts the broker's parent, the simulator and the subscriber; the bridge runs as its
// own process, as deployed (log level info, the default). Every round has a fresh broker, simulator
// and bridge (retained discovery of an earlier round would arrive at once). Rounds go through the
// sizes in turn, so background load hits every size alike; the table shows medians of rounds.
// A binary's RSS is its own (the bridge process only); `BRIDGE_ENV_MALLOC_ARENA_MAX=2` and the like
// set an environment variable for the bridge alone.
import BridgeCore
import Foundation
import Logging
import Mosquitto
import Simulators
import SourceKit
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    return logger
}()

let arguments = CommandLine.arguments
if arguments.count >= 3, arguments[1] == "--ingest" {
    // The bridge's own work on a first poll, without broker or executable (IngestOnly.swift).
    let file = "Mappings/ocpp_csms.yaml"
    let mapping = try MappingLoader.load(yaml: try String(contentsOfFile: file, encoding: .utf8), file: file)
    try await ingestOnly(
        chargePoints: Int(arguments[2]) ?? 1000, publishers: arguments.count > 3 ? Int(arguments[3]) ?? 1 : 1, mapping: mapping,
        logger: logger)
    exit(0)
}
guard arguments.count >= 2 else {
    print("usage: OCPPScaleBenchmark <api2mqtt binary>[,<binary>…] [sizes] [rounds] [polls measured] [poll interval s]")
    exit(2)
}
let binaries = arguments[1].split(separator: ",").map(String.init)
let sizes = (arguments.count > 2 ? arguments[2] : "10,100,1000").split(separator: ",").compactMap { Int($0) }
let rounds = arguments.count > 3 ? max(1, Int(arguments[3]) ?? 3) : 3
let polls = arguments.count > 4 ? max(1, Int(arguments[4]) ?? 6) : 6
let pollSeconds = arguments.count > 5 ? max(1, Int(arguments[5]) ?? 5) : 5
let pollInterval = Duration.seconds(pollSeconds)
let connectors = 2
let mappingFile = "Mappings/ocpp_csms.yaml"

// MARK: Expected discovery

/// Discovery configs per device kind, worked out from the mapping the way the bridge does (an
/// entity merged with the command of its id; a command without an entity is an entity of its own).
func discoveryCount(_ mapping: MappingFile, kind: String?) -> Int {
    let entities = mapping.entities.filter { $0.enabled && $0.child?.kind == kind }
    let covered = Set(entities.map(\.id))
    let commands = mapping.commands.filter { $0.enabled && $0.child?.kind == kind && !covered.contains($0.id) }
    return entities.count + commands.count
}

let mapping: MappingFile
do {
    mapping = try MappingLoader.load(yaml: try String(contentsOfFile: mappingFile, encoding: .utf8), file: mappingFile)
} catch {
    print("cannot load \(mappingFile) (run from the package root): \(error)")
    exit(1)
}
let perCSMS = discoveryCount(mapping, kind: nil)
let perChargePoint = discoveryCount(mapping, kind: "charge_point")
let perConnector = discoveryCount(mapping, kind: "connector")

func expectedConfigs(_ chargePoints: Int) -> Int { perCSMS + chargePoints * (perChargePoint + connectors * perConnector) }

// MARK: Process figures


/// The benchmark process's own CPU time in ms (simulator, subscriber, this loop).
func ownCPUMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) * 1000 + Double(usage.ru_utime.tv_usec) / 1000
    let system = Double(usage.ru_stime.tv_sec) * 1000 + Double(usage.ru_stime.tv_usec) / 1000
    return user + system
}

/// The mosquitto this process started for the current round (its parent is us).
func brokerPID() -> pid_t? {
    let me = getpid()
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = pid_t(entry),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
        else { continue }
        let name = stat[stat.index(after: open)..<close]
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if name == "mosquitto", fields.count > 1, pid_t(fields[1]) == me { return pid }
    }
    return nil
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.filter { !$0.isNaN }.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func format(_ value: Double, _ decimals: Int = 2) -> String { value.isNaN ? "–" : String(format: "%.\(decimals)f", value) }

func padded(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }

/// This process's environment, plus every `BRIDGE_ENV_<NAME>=value` as `<NAME>=value` for the
/// bridge only (profiling: `BRIDGE_ENV_LD_PRELOAD=…`).
let bridgeEnvironment: [String: String] = {
    var environment = ProcessInfo.processInfo.environment
    for (name, value) in environment where name.hasPrefix("BRIDGE_ENV_") {
        environment[String(name.dropFirst("BRIDGE_ENV_".count))] = value
        environment[name] = nil
    }
    return environment
}()

/// `BRIDGE_CONFIG_EXTRA`: YAML appended to the bridge's configuration (e.g. a `publish:` section).
let extraConfiguration = ProcessInfo.processInfo.environment["BRIDGE_CONFIG_EXTRA"] ?? ""

// MARK: One round

/// What the subscriber saw, stamped on arrival.
final class Arrivals: Sendable {
    struct State {
        var topics: Set<String> = []
        var firstConfig: ContinuousClock.Instant?
        var complete: ContinuousClock.Instant?
        var connected: ContinuousClock.Instant?
        var messages = 0
        /// Payload bytes of the configs last received per topic.
        var sizes: [String: Int] = [:]
        /// Configs received so far, by device.
        var deviceConfigs: [Substring: Int] = [:]
        /// How many of its configs a device had when its first state (`api2mqtt/<device>`) arrived.
        var configsAtFirstState: [Substring: Int] = [:]
    }

    let expected: Int
    let state = Mutex(State())

    init(expected: Int) { self.expected = expected }

    func receive(_ message: MQTTMessage) {
        let instant = ContinuousClock.now
        if message.topic == "api2mqtt/bridge/state" {
            if String(decoding: message.payload, as: UTF8.self).contains("online") {
                state.withLock { if $0.connected == nil { $0.connected = instant } }
            }
            return
        }
        let levels = message.topic.split(separator: "/", omittingEmptySubsequences: false)
        if levels.count == 2, levels[0] == "api2mqtt", levels[1] == "csms" || levels[1].hasPrefix("csms_") {
            state.withLock { state in
                if state.configsAtFirstState[levels[1]] == nil { state.configsAtFirstState[levels[1]] = state.deviceConfigs[levels[1], default: 0] }
            }
            return
        }
        guard levels.count >= 4, levels.last == "config" else { return }
        let device = levels[levels.count - 3]
        guard device == "csms" || device.hasPrefix("csms_") else { return }
        state.withLock { state in
            state.messages += 1
            if message.payload.isEmpty {
                state.topics.remove(message.topic)
            } else {
                if state.topics.insert(message.topic).inserted { state.deviceConfigs[device, default: 0] += 1 }
                state.sizes[message.topic] = message.payload.count
            }
            if state.firstConfig == nil { state.firstConfig = instant }
            if state.complete == nil, state.topics.count >= expected { state.complete = instant }
        }
    }
}

struct RoundResult {
    var chargePoints: Int
    var configs: Int
    var configMessages: Int
    /// Mean payload size of a config in bytes.
    var configBytes: Double
    /// From spawning the process; from its MQTT connect (bridge/state online); from its first /chp read.
    var fromStart: Double
    var fromConnect: Double
    var fromFirstRead: Double
    /// Devices whose first state arrived before the last of their configs (design.md: none).
    var statesBeforeConfigs: Int
    /// CPU ms between the spawn and the last config: the bridge, this process (simulator and
    /// subscriber), the broker.
    var bridgeCPU: Double
    var benchCPU: Double
    var brokerCPU: Double
    var rssMB: Double
    var anonMB: Double
    var fileMB: Double
    var peakMB: Double
    var cpuPerInterval: Double
    var cpuPerRound: Double
    var readRounds: Int
    var chpMilliseconds: Double
    var activeMilliseconds: Double
    var logLines: Int
}

/// Times `count` GETs of `path` by another account (a bridge-account login would replace the bridge's token).
func timeReads(_ client: SourceHTTPClient, _ path: String, count: Int) async throws -> Double {
    var times: [Double] = []
    for _ in 0..<count {
        let start = ContinuousClock.now
        _ = try await client.get(path)
        times.append(seconds(ContinuousClock.now - start) * 1000)
    }
    return median(times)
}

func runRound(binary api2mqtt: String, chargePoints count: Int, pool: HTTPClientPool) async throws -> RoundResult {
    let expected = expectedConfigs(count)
    let broker = try await MosquittoBroker.start(.init(extraConfiguration: ["max_queued_messages 0"], logsEveryPacket: false))
    defer {
        broker.stop()
        try? FileManager.default.removeItem(at: broker.directory)
    }
    let simulator = OCPPCSMSSimulator(
        configuration: .init(tickInterval: pollInterval, simulatedStep: pollInterval, chargePoints: OCPPCSMSSimulator.ChargePointSpec.fleet(count: count, connectors: connectors)))
    let port = try await simulator.start()
    // A few sessions of the bridge's own tag, so session values and meter values flow.
    let ids = simulator.configuration.chargePoints.map { $0.id }
    for index in stride(from: 0, to: ids.count, by: 50) {
        try simulator.plugIn(chargePointID: ids[index], connectorID: 1, idTag: "TAG001", stateOfCharge: 20)
    }

    let arrivals = Arrivals(expected: expected)
    let subscriber = try MosquittoClient(
        configuration: MosquittoConfiguration(host: "127.0.0.1", port: broker.port, clientID: "scale-subscriber"), logger: logger)
    let directory = try TemporaryDirectory.make(prefix: "ocpp-scale")
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = directory.appendingPathComponent("api2mqtt.yaml")
    let logFile = directory.appendingPathComponent("bridge.log")
    try """
        mqtt:
          url: mqtt://127.0.0.1:\(broker.port)
          client_id: ocpp-scale-bridge
        http:
          enabled: false
        sources:
          - id: csms
            type: ocpp_csms
            name: CSMS
            url: http://127.0.0.1:\(port)
            username: bridge@example.com
            password: bridge-password
            remote_start_id_tag: TAG001
            poll_interval: \(pollSeconds)s
        \(extraConfiguration)
        """.write(to: config, atomically: true, encoding: .utf8)

    let result = try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await subscriber.run() }
        group.addTask { for await message in subscriber.messages { arrivals.receive(message) } }
        try await subscriber.waitUntilConnected(timeout: .seconds(10))
        // QoS 0, as Home Assistant subscribes to discovery and state: what arrives in which order
        // is then the order the broker got it from the bridge.
        try await subscriber.subscribe("homeassistant/#", qos: .atMostOnce)
        try await subscriber.subscribe("api2mqtt/bridge/state", qos: .atMostOnce)
        try await subscriber.subscribe("api2mqtt/+", qos: .atMostOnce)
        let brokerStart = brokerPID().flatMap(ProcessFigures.cpuSeconds).map { $0 * 1000 } ?? .nan
        let benchStart = ownCPUMilliseconds()

        let start = ContinuousClock.now
        let bridge = try ChildProcess(
            api2mqtt, ["run", "--config", config.path], environment: bridgeEnvironment, stdoutPath: logFile.path, stderrPath: logFile.path)
        defer { bridge.terminate(grace: .seconds(5)) }

        // The first /chp read (2 ms resolution) and the last config.
        var firstRead: ContinuousClock.Instant?
        let deadline = start + .seconds(300)
        while arrivals.state.withLock({ $0.complete }) == nil {
            guard ContinuousClock.now < deadline, bridge.isRunning else {
                let (got, messages) = arrivals.state.withLock { ($0.topics.count, $0.messages) }
                let tail = ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").split(separator: "\n").suffix(20).joined(separator: "\n")
                throw TestSupportError(
                    "N=\(count): \(got) of \(expected) discovery configs (\(messages) messages) after \(ContinuousClock.now - start); bridge log:\n\(tail)")
            }
            if firstRead == nil, simulator.requests.count(method: "GET", path: "/api/v1/chp") > 0 { firstRead = .now }
            try await Task.sleep(for: .milliseconds(2))
        }
        let bridgeCPU = (ProcessFigures.cpuSeconds(bridge.pid).map { $0 * 1000 } ?? .nan)
        let benchCPU = ownCPUMilliseconds() - benchStart
        let brokerCPU = (brokerPID().flatMap(ProcessFigures.cpuSeconds).map { $0 * 1000 } ?? .nan) - brokerStart
        let seen = arrivals.state.withLock { $0 }
        let complete = seen.complete ?? .now

        // Steady state: settle two intervals, then k intervals of samples.
        try await Task.sleep(for: pollInterval * 2)
        let cpuBefore = (ProcessFigures.cpuSeconds(bridge.pid).map { $0 * 1000 } ?? .nan)
        let readsBefore = simulator.requests.count(method: "GET", path: "/api/v1/chp")
        var rss: [Double] = []
        var anon: [Double] = []
        var file: [Double] = []
        for _ in 0..<polls {
            try await Task.sleep(for: pollInterval)
            rss.append((ProcessFigures.statusKB(bridge.pid, "VmRSS").map(Double.init) ?? .nan) / 1024)
            anon.append((ProcessFigures.statusKB(bridge.pid, "RssAnon").map(Double.init) ?? .nan) / 1024)
            file.append((ProcessFigures.statusKB(bridge.pid, "RssFile").map(Double.init) ?? .nan) / 1024)
        }
        let cpuAfter = (ProcessFigures.cpuSeconds(bridge.pid).map { $0 * 1000 } ?? .nan)
        let readRounds = simulator.requests.count(method: "GET", path: "/api/v1/chp") - readsBefore
        let peak = (ProcessFigures.statusKB(bridge.pid, "VmHWM").map(Double.init) ?? .nan) / 1024

        // The simulator's answer times for the two lists a poll reads (another account's login).
        let reader = try simulatorReader(port: port, pool: pool, logger: logger)
        let chp = try await timeReads(reader, "/api/v1/chp", count: 5)
        let active = try await timeReads(reader, "/api/v1/transactions/active", count: 5)

        bridge.terminate(grace: .seconds(5))
        let logLines = ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").split(separator: "\n").count
        group.cancelAll()
        return RoundResult(
            chargePoints: count, configs: seen.topics.count, configMessages: seen.messages,
            configBytes: Double(seen.sizes.values.reduce(0, +)) / Double(max(1, seen.sizes.count)),
            fromStart: seconds(complete - start),
            fromConnect: seen.connected.map { seconds(complete - $0) } ?? .nan,
            fromFirstRead: firstRead.map { seconds(complete - $0) } ?? .nan,
            statesBeforeConfigs: arrivals.state.withLock { state in
                state.configsAtFirstState.filter { device, count in count < state.deviceConfigs[device, default: 0] }.count
            },
            bridgeCPU: bridgeCPU, benchCPU: benchCPU, brokerCPU: brokerCPU,
            rssMB: median(rss), anonMB: median(anon), fileMB: median(file), peakMB: peak,
            cpuPerInterval: (cpuAfter - cpuBefore) / Double(polls),
            cpuPerRound: readRounds > 0 ? (cpuAfter - cpuBefore) / Double(readRounds) : .nan,
            readRounds: readRounds, chpMilliseconds: chp, activeMilliseconds: active, logLines: logLines)
    }
    await simulator.stop()
    return result
}

// MARK: Main

print(
    """
    OCPP CSMS scale: charge points \(sizes.map(String.init).joined(separator: ", ")) × \(connectors) connectors, \(rounds) rounds, \
    poll_interval \(pollSeconds)s (shorter than the 15 s default, to get several polls), \(polls) intervals measured after 2 of settling
    expected discovery configs from \(mappingFile): \(perCSMS) for the CSMS + \(perChargePoint) per charge point + \(perConnector) per connector \
    → \(sizes.map { "\($0): \(expectedConfigs($0))" }.joined(separator: ", "))
    sessions: one on every 50th charge point (connector 1, the bridge's tag); the simulator ticks every \(pollSeconds)s
    """)
let pool = HTTPClientPool(logger: logger)
/// A short name per binary for the table: its path, or `#k path` with several binaries.
let names = binaries.count == 1 ? binaries : binaries.enumerated().map { "#\($0.offset + 1)" }
if binaries.count > 1 {
    for (name, binary) in zip(names, binaries) { print("\(name): \(binary)") }
}
var results: [String: [Int: [RoundResult]]] = [:]
for round in 1...rounds {
    for size in sizes {
        // Side by side: the binaries in turn, the first of them changing from round to round.
        let order = binaries.indices.map { (round - 1 + $0) % binaries.count }
        for index in order {
            let result = try await runRound(binary: binaries[index], chargePoints: size, pool: pool)
            results[names[index], default: [:]][size, default: []].append(result)
            print(
                "round \(round) \(binaries.count > 1 ? names[index] + " " : "")N=\(size): \(result.configs) configs (\(result.configMessages) messages, \(format(result.configBytes, 0)) bytes each); discovery \(format(result.fromStart)) s "
                    + "from start, \(format(result.fromConnect)) s from MQTT connect, \(format(result.fromFirstRead)) s from the first /chp read; "
                    + "CPU until then: bridge \(format(result.bridgeCPU, 0)) ms, benchmark process \(format(result.benchCPU, 0)) ms, "
                    + "broker \(format(result.brokerCPU, 0)) ms; steady RSS \(format(result.rssMB, 1)) MB (anon \(format(result.anonMB, 1)), "
                    + "file \(format(result.fileMB, 1)), peak \(format(result.peakMB, 1))); CPU \(format(result.cpuPerInterval, 1)) ms per \(pollSeconds)s interval, "
                    + "\(result.readRounds) /chp reads in \(polls) intervals → \(format(result.cpuPerRound, 1)) ms per read round; "
                    + "simulator answers /chp in \(format(result.chpMilliseconds, 1)) ms, /transactions/active in \(format(result.activeMilliseconds, 1)) ms; "
                    + "bridge log \(result.logLines) lines; \(result.statesBeforeConfigs) devices had a state before all their configs")
        }
    }
}
await pool.shutdown()

struct Row {
    var size: Int
    var configs: Int
    var fromStart: Double
    var fromConnect: Double
    var fromFirstRead: Double
    var rss: Double
    var anon: Double
    var file: Double
    var cpu: Double
    var cpuPerRound: Double
}

func rows(of name: String, in results: [String: [Int: [RoundResult]]]) -> [Row] {
    sizes.map { size -> Row in
        let all = results[name]?[size] ?? []
        return Row(
            size: size, configs: all.first?.configs ?? 0, fromStart: median(all.map(\.fromStart)), fromConnect: median(all.map(\.fromConnect)),
            fromFirstRead: median(all.map(\.fromFirstRead)), rss: median(all.map(\.rssMB)), anon: median(all.map(\.anonMB)),
            file: median(all.map(\.fileMB)), cpu: median(all.map(\.cpuPerInterval)), cpuPerRound: median(all.map(\.cpuPerRound)))
    }
}

for name in names {
    let rows = rows(of: name, in: results)
    print("")
    print("\(binaries.count > 1 ? name + ": " : "")median of \(rounds) rounds; discovery = until the last of the expected configs arrived at the subscriber")
    print("   N CPs  entities  disc. s (start / connect / 1st read)  RSS MB  anon MB  file MB  CPU ms/poll (/read round)")
    for row in rows {
        print(
            padded("\(row.size)", 8) + padded("\(row.configs)", 10)
                + padded("\(format(row.fromStart)) / \(format(row.fromConnect)) / \(format(row.fromFirstRead))", 38)
                + padded(format(row.rss, 1), 8) + padded(format(row.anon, 1), 9) + padded(format(row.file, 1), 9)
                + padded("\(format(row.cpu, 1)) (\(format(row.cpuPerRound, 1)))", 26))
    }
    print("growth     ×N     entities  discovery  RSS    anon   CPU/poll")
    for (previous, next) in zip(rows, rows.dropFirst()) {
        print(
            padded("\(previous.size)→\(next.size)", 10) + padded(format(Double(next.size) / Double(previous.size), 0), 7)
                + padded(format(Double(next.configs) / Double(max(1, previous.configs)), 1), 13)
                + padded(format(next.fromStart / previous.fromStart), 11) + padded(format(next.rss / previous.rss), 7)
                + padded(format(next.anon / previous.anon), 7) + padded(format(next.cpu / previous.cpu), 9))
    }
    if let first = rows.first, let last = rows.last, last.size > first.size {
        let perCP = (last.rss - first.rss) * 1024 / Double(last.size - first.size)
        let anonPerCP = (last.anon - first.anon) * 1024 / Double(last.size - first.size)
        print("RSS per additional charge point: \(format(perCP, 1)) kB, anonymous \(format(anonPerCP, 1)) kB (\(first.size)→\(last.size))")
    }
    if let largest = rows.last {
        print(
            "targets at N=\(largest.size): discovery \(format(largest.fromStart)) s (≤ 3 s: \(largest.fromStart <= 3 ? "met" : "missed")), "
                + "RSS \(format(largest.rss, 1)) MB (≤ 60 MB: \(largest.rss <= 60 ? "met" : "missed"))")
    }
}
if names.count > 1, let baseline = names.first {
    print("")
    print("side by side, each against \(baseline) (ratios of the medians)")
    print("  binary   N CPs   RSS   anon  discovery  CPU/poll")
    let base = rows(of: baseline, in: results)
    for name in names.dropFirst() {
        for (old, new) in zip(base, rows(of: name, in: results)) {
            print(
                padded(name, 8) + padded("\(new.size)", 8) + padded(format(new.rss / old.rss), 6) + padded(format(new.anon / old.anon), 7)
                    + padded(format(new.fromStart / old.fromStart), 11) + padded(format(new.cpu / old.cpu), 10))
        }
    }
}
