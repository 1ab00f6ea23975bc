// The TinyBMS gateway through the real `api2mqtt` executable: telemetry at 1 Hz for some minutes,
// then a fast burst (100 Hz for 30 s by default). Per phase: CPU and RSS of the api2mqtt process,
// MQTT messages published per telemetry frame (the device JSON plus the per-entity topics that
// changed, with `publish.output: attribute_and_json`), and frame → MQTT latency p50/p99.
//
// Usage: TinyBMSBenchmark <api2mqtt binary> [minutes at 1 Hz] [burst seconds] [burst Hz]
// (Benchmarks/run-tinybms-benchmark builds everything and passes the paths.) SHAPE=deployed runs the
// simulator with the deployed-firmware quirks (wrapped SI telemetry with energy counters, no JSON
// ping, plain-text errors, 7-socket limit) instead of the documented frames.
//
// One process hosts a private mosquitto's client, the simulator and the subscriber; the bridge
// runs as its own process, as deployed, and only its CPU and memory are measured (/proc/PID).
// The benchmark ticks the simulator itself (no automatic ticks), so each frame's send instant is
// known; the simulated time per frame follows the rate (`setTelemetryInterval`).
//
// Correlation: every frame carries `timestamp_ms` (simulated clock, +1000 per frame at 1 Hz, +10
// at 100 Hz: unique and increasing). A mapping overlay adds one diagnostic entity, `frame_stamp`,
// from it, so each telemetry frame's device JSON carries its own stamp. At the subscriber (one
// connection, so in the bridge's publish order: a document's per-entity messages, then its device
// JSON), a device JSON with a new stamp closes that frame: its latency is the JSON's arrival minus
// the instant just before the simulator produced the frame, and the per-entity messages of
// telemetry entities since the previous device JSON are that frame's. `frame_stamp`'s own topic
// is left out of the counts; a device JSON with an old stamp is another document's (status polls).
import BridgeCore
import Foundation
import Logging
import Mosquitto
import Simulators
import Synchronization
import TestSupport

var logger = Logger(label: "bench")
logger.logLevel = .warning

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: TinyBMSBenchmark <api2mqtt binary> [minutes at 1 Hz] [burst seconds] [burst Hz]")
    exit(2)
}
let api2mqtt = arguments[1]
let minutes = arguments.count > 2 ? Double(arguments[2]) ?? 10 : 10
let burstSeconds = arguments.count > 3 ? Double(arguments[3]) ?? 30 : 30
let burstHz = arguments.count > 4 ? Int(arguments[4]) ?? 100 : 100
let deviceTopic = "api2mqtt/bms"
let stampEntity = "frame_stamp"

/// Memory of one phase: at its start and end, and the largest sample in between.
struct MemoryWindow {
    var start: (rss: Int, anon: Int)
    var end: (rss: Int, anon: Int)
    var maxRSS: Int
    var maxAnon: Int
}

/// Samples the bridge's memory every 200 ms into the current phase's maximum.
final class MemorySampler: Sendable {
    let pid: pid_t
    let maxima = Mutex<(rss: Int, anon: Int)>((0, 0))

    init(pid: pid_t) { self.pid = pid }

    func reset() -> (rss: Int, anon: Int) {
        let now = ProcessFigures.memory(pid) ?? (0, 0)
        maxima.withLock { $0 = now }
        return now
    }

    func sample() {
        guard let now = ProcessFigures.memory(pid) else { return }
        maxima.withLock { $0 = (max($0.rss, now.rss), max($0.anon, now.anon)) }
    }

    func window(from start: (rss: Int, anon: Int)) -> MemoryWindow {
        sample()
        let end = ProcessFigures.memory(pid) ?? (0, 0)
        let maxima = maxima.withLock { $0 }
        return MemoryWindow(start: start, end: end, maxRSS: maxima.rss, maxAnon: maxima.anon)
    }
}

// MARK: Subscriber

/// One telemetry frame as seen at the subscriber.
struct FrameArrival {
    var arrival: ContinuousClock.Instant
    /// Per-entity messages of telemetry entities before this frame's device JSON.
    var entityMessages: Int
    /// Of those, how many repeated the topic's previous payload (the republish interval).
    var unchanged: Int
}

/// What the subscriber saw, in arrival order.
struct Observed {
    var lastStamp: Double?
    var pendingEntities = 0
    var pendingUnchanged = 0
    var lastPayload: [String: [UInt8]] = [:]
    var frames: [Double: FrameArrival] = [:]
    /// Device JSONs of other documents (same stamp as before), and other messages under the device
    /// (non-telemetry entities, attributes, events, availability).
    var otherJSON = 0
    var otherMessages = 0
    var total = 0
}

/// The number following `key` in a JSON payload: a byte scan, so that the subscriber's own cost
/// stays small next to what is measured.
func number(after key: [UInt8], in payload: [UInt8]) -> Double? {
    guard payload.count > key.count else { return nil }
    var index = 0
    while index + key.count <= payload.count {
        if payload[index] == key[0] && payload[index..<(index + key.count)].elementsEqual(key) {
            var end = index + key.count
            while end < payload.count, payload[end] != UInt8(ascii: ","), payload[end] != UInt8(ascii: "}") { end += 1 }
            return Double(String(decoding: payload[(index + key.count)..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces))
        }
        index += 1
    }
    return nil
}

// MARK: Statistics

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func seconds(_ duration: Duration) -> Double { milliseconds(duration) / 1000 }

func format(_ value: Double, _ decimals: Int = 2) -> String { String(format: "%.\(decimals)f", value) }

/// The figures of one phase.
struct PhaseResult {
    var name: String
    var frames: Int
    var sendSeconds: Double
    var windowSeconds: Double
    var cpu: Double
    var memory: MemoryWindow
    var arrived: Int
    var entityMedian: Double
    var entityMax: Int
    var entityMin: Int
    var entityMean: Double
    var unchanged: Int
    var unchangedFrames: Int
    var otherJSON: Int
    var otherMessages: Int
    var latencyP50: Double
    var latencyP99: Double
    var latencyMax: Double
    var lastLatency: Double
}

// MARK: Set-up

let mappingsDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Mappings")
let mapping = try MappingLoader.load(
    yaml: try String(contentsOf: mappingsDirectory.appendingPathComponent("tinybms.yaml"), encoding: .utf8), file: "tinybms.yaml")
/// Entities read only from telemetry frames (events excluded): the per-entity topics a frame can change.
let telemetryEntities = Set(
    mapping.entities.filter { $0.endpoints == ["telemetry"] && $0.component != .event }.map { "\(deviceTopic)/\($0.id)" })
let telemetryTopicCount = telemetryEntities.count

let directory = try TemporaryDirectory.make(prefix: "tinybms-bench")
let overlay = directory.appendingPathComponent("frame-stamp.yaml")
try """
    source: tinybms
    entities:
      - id: \(stampEntity)
        name: Frame stamp
        from: { endpoint: telemetry, path: timestamp_ms }
        precision: 0
        entity_category: diagnostic
        enabled_by_default: false
    """.write(to: overlay, atomically: true, encoding: .utf8)

// mosquitto leaves Nagle's algorithm on towards subscribers unless told otherwise; at 100 Hz the
// subscriber's delayed ACKs would then decide the latency (see LatencyBenchmark). NAGLE=1 keeps it.
let nagle = ProcessInfo.processInfo.environment["NAGLE"] != nil
let broker = try await MosquittoBroker.start(
    .init(extraConfiguration: nagle ? [] : ["set_tcp_nodelay true"], logsEveryPacket: false))
let deployed = ProcessInfo.processInfo.environment["SHAPE"] == "deployed"
let simulator = TinyBMSSimulator(
    configuration: .init(
        tickInterval: .seconds(1), autoTickDelay: nil, quirks: deployed ? TinyBMSSimulator.deployedFirmwareQuirks : []))
let simulatorPort = try await simulator.start()
let subscriber = try MosquittoClient(
    configuration: MosquittoConfiguration(
        host: "127.0.0.1", port: broker.port, clientID: "tinybms-bench-subscriber", incomingBufferLimit: 1_000_000),
    logger: logger)

let config = directory.appendingPathComponent("api2mqtt.yaml")
try """
    mqtt:
      url: mqtt://127.0.0.1:\(broker.port)
      client_id: tinybms-bench-bridge
    publish:
      output: attribute_and_json
    http:
      enabled: false
    log:
      level: warning
    sources:
      - id: bms
        type: tinybms
        name: Battery BMS
        url: http://127.0.0.1:\(simulatorPort)
        stream: websocket
        mapping: \(overlay.path)
    """.write(to: config, atomically: true, encoding: .utf8)

let observed = Mutex(Observed())
let sent = Mutex<[Double: ContinuousClock.Instant]>([:])
let stampKey = Array("\"\(stampEntity)\":".utf8)
let stampTopic = "\(deviceTopic)/\(stampEntity)"

print("TinyBMS gateway → api2mqtt → MQTT: \(format(minutes, 1)) min at 1 Hz, then \(format(burstSeconds, 0)) s at \(burstHz) Hz")
print("  real api2mqtt (\(api2mqtt)), publish.output attribute_and_json, HA discovery on, private mosquitto")
print("  (set_tcp_nodelay \(nagle ? "false (NAGLE=1)" : "true")), simulator (\(deployed ? "deployed firmware: wrapped SI battery frames" : "documented battery_data frames"), 16 cells)")
print("  ticked by the benchmark; simulated time per frame = 1 / rate; republish_interval 5m (default)")
print("  correlation: each frame's timestamp_ms (unique, increasing) comes out as the overlay entity frame_stamp in the")
print("  device JSON; latency = that JSON's arrival at a subscriber − the instant before the simulator built the frame;")
print("  a frame's messages = its device JSON + the per-entity messages of the \(telemetryTopicCount) telemetry entities since")
print("  the previous device JSON (frame_stamp's own topic not counted). Measured: the api2mqtt process only.")
let hostLoad = ProcessFigures.hostLoad()
print("  host: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average at start \(hostLoad)")
print("")

let bridge = try ChildProcess(
    api2mqtt, ["run", "--config", config.path], stdoutPath: directory.appendingPathComponent("bridge.log").path,
    stderrPath: directory.appendingPathComponent("bridge.log").path)
let sampler = MemorySampler(pid: bridge.pid)

/// Ticks the simulator `count` times at `hz`, recording each frame's stamp and send instant.
func drive(count: Int, hz: Int) async -> (stamps: [Double], seconds: Double) {
    simulator.setTelemetryInterval(.seconds(1) / hz)
    let interval = Duration.seconds(1) / hz
    let start = ContinuousClock.now
    var stamps: [Double] = []
    stamps.reserveCapacity(count)
    for index in 0..<count {
        let due = start + interval * index
        if ContinuousClock.now < due { try? await Task.sleep(until: due, clock: .continuous) }
        let instant = ContinuousClock.now
        guard let stamp = simulator.tick()?["timestamp_ms"]?.numberValue else { continue }
        sent.withLock { $0[stamp] = instant }
        stamps.append(stamp)
    }
    return (stamps, seconds(ContinuousClock.now - start))
}

/// Waits until every stamp in `stamps` arrived, or nothing arrived for `quiet`.
func drain(_ stamps: [Double], quiet: Duration = .seconds(10)) async {
    var last = -1
    var quietSince = ContinuousClock.now
    while ContinuousClock.now - quietSince < quiet {
        let arrived = observed.withLock { observed in stamps.reduce(0) { $0 + (observed.frames[$1] == nil ? 0 : 1) } }
        if arrived == stamps.count { return }
        if arrived != last {
            last = arrived
            quietSince = .now
        }
        try? await Task.sleep(for: .milliseconds(50))
    }
}

func measure(_ name: String, count: Int, hz: Int) async -> PhaseResult {
    let before = observed.withLock { ($0.otherJSON, $0.otherMessages) }
    let memoryStart = sampler.reset()
    let cpuStart = ProcessFigures.cpuSeconds(bridge.pid) ?? .nan
    let windowStart = ContinuousClock.now
    let (stamps, sendSeconds) = await drive(count: count, hz: hz)
    await drain(stamps)
    let cpu = (ProcessFigures.cpuSeconds(bridge.pid) ?? .nan) - cpuStart
    let windowSeconds = seconds(ContinuousClock.now - windowStart)
    let memory = sampler.window(from: memoryStart)
    let sentInstants = sent.withLock { $0 }
    let (frames, other) = observed.withLock { observed in
        (stamps.compactMap { stamp in observed.frames[stamp].map { (stamp, $0) } }, (observed.otherJSON, observed.otherMessages))
    }
    let latencies = frames.compactMap { stamp, frame in sentInstants[stamp].map { milliseconds(frame.arrival - $0) } }.sorted()
    let entityCounts = frames.map(\.1.entityMessages).sorted()
    let lastLatency = stamps.last.flatMap { stamp in
        frames.last(where: { $0.0 == stamp }).flatMap { frame in sentInstants[stamp].map { milliseconds(frame.1.arrival - $0) } }
    }
    return PhaseResult(
        name: name, frames: stamps.count, sendSeconds: sendSeconds, windowSeconds: windowSeconds, cpu: cpu, memory: memory,
        arrived: frames.count,
        entityMedian: percentile(entityCounts.map(Double.init), 0.5), entityMax: entityCounts.last ?? 0,
        entityMin: entityCounts.first ?? 0,
        entityMean: entityCounts.isEmpty ? .nan : Double(entityCounts.reduce(0, +)) / Double(entityCounts.count),
        unchanged: frames.reduce(0) { $0 + $1.1.unchanged }, unchangedFrames: frames.filter { $0.1.unchanged > 0 }.count, otherJSON: other.0 - before.0, otherMessages: other.1 - before.1,
        latencyP50: percentile(latencies, 0.5), latencyP99: percentile(latencies, 0.99), latencyMax: latencies.last ?? .nan,
        lastLatency: lastLatency ?? .nan)
}

var results: [PhaseResult] = []
var failure: (any Error)?
do {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await subscriber.run() }
        try await subscriber.waitUntilConnected(timeout: .seconds(10))
        try await subscriber.subscribe("\(deviceTopic)/#")
        group.addTask {
            for await message in subscriber.messages {
                let instant = ContinuousClock.now
                observed.withLock { observed in
                    observed.total += 1
                    if message.topic == deviceTopic {
                        let stamp = number(after: stampKey, in: message.payload)
                        if let stamp, stamp != observed.lastStamp {
                            observed.lastStamp = stamp
                            if observed.frames[stamp] == nil {
                                observed.frames[stamp] = FrameArrival(
                                    arrival: instant, entityMessages: observed.pendingEntities, unchanged: observed.pendingUnchanged)
                            }
                        } else {
                            observed.otherJSON += 1
                        }
                        observed.pendingEntities = 0
                        observed.pendingUnchanged = 0
                    } else if telemetryEntities.contains(message.topic) {
                        observed.pendingEntities += 1
                        if observed.lastPayload[message.topic] == message.payload { observed.pendingUnchanged += 1 }
                        observed.lastPayload[message.topic] = message.payload
                    } else if message.topic != stampTopic {
                        observed.otherMessages += 1
                    }
                }
            }
        }
        group.addTask {
            while !Task.isCancelled {
                sampler.sample()
                try await Task.sleep(for: .milliseconds(200))
            }
        }

        // Warm-up: 1 Hz frames until one reaches MQTT (the bridge is up and its sockets open), then
        // a few more so that start-up reads (status, alerts, config polls) are behind us.
        simulator.setTelemetryInterval(.seconds(1))
        let deadline = ContinuousClock.now + .seconds(120)
        while observed.withLock({ $0.frames.isEmpty }) {
            guard ContinuousClock.now < deadline, bridge.isRunning else {
                throw TestSupportError("no telemetry frame reached MQTT within 120 s (bridge running: \(bridge.isRunning))")
            }
            _ = await drive(count: 1, hz: 1)
            try await Task.sleep(for: .seconds(1))
        }
        _ = await drive(count: 10, hz: 1)
        let warmUpRSS = ProcessFigures.memory(bridge.pid)

        let slowFrames = Int((minutes * 60).rounded())
        print("warm-up done (RSS \(warmUpRSS?.rss ?? 0) kB); 1 Hz phase: \(slowFrames) frames …")
        results.append(await measure("1 Hz", count: slowFrames, hz: 1))
        let burstFrames = Int((burstSeconds * Double(burstHz)).rounded())
        print("burst: \(burstFrames) frames at \(burstHz) Hz …")
        results.append(await measure("\(burstHz) Hz burst", count: burstFrames, hz: burstHz))
        simulator.setTelemetryInterval(.seconds(1))
        group.cancelAll()
    }
} catch {
    failure = error
}

let bridgeLog = (try? String(contentsOf: directory.appendingPathComponent("bridge.log"), encoding: .utf8)) ?? ""
let bridgeRunning = bridge.isRunning
bridge.terminate(grace: .seconds(5))
await simulator.stop()
broker.shutDown()

if let failure {
    print("benchmark failed: \(failure)")
    print("bridge log (last 30 lines):")
    print(bridgeLog.split(separator: "\n").suffix(30).joined(separator: "\n"))
    exit(1)
}

func row(_ label: String, _ values: [String]) {
    print(label.padding(toLength: 50, withPad: " ", startingAt: 0) + values.map { $0.padding(toLength: 26, withPad: " ", startingAt: 0) }.joined())
}

print("")
row("", results.map(\.name))
row("frames sent", results.map { "\($0.frames)" })
row("send time (s) / achieved rate (Hz)", results.map { "\(format($0.sendSeconds, 1)) / \(format(Double($0.frames) / $0.sendSeconds, 1))" })
row("frames whose device JSON arrived", results.map { "\($0.arrived) (lost \($0.frames - $0.arrived))" })
row("measured window (s, until all arrived)", results.map { format($0.windowSeconds, 1) })
row("CPU api2mqtt (s, utime+stime)", results.map { format($0.cpu, 2) })
row("CPU % of one core over the window", results.map { format(100 * $0.cpu / $0.windowSeconds, 2) })
row("CPU per frame (ms)", results.map { format(1000 * $0.cpu / Double(max(1, $0.frames)), 3) })
row("VmRSS start / end / max (kB)", results.map { "\($0.memory.start.rss) / \($0.memory.end.rss) / \($0.memory.maxRSS)" })
row("RssAnon start / end / max (kB)", results.map { "\($0.memory.start.anon) / \($0.memory.end.anon) / \($0.memory.maxAnon)" })
row("device JSONs: new stamp (frames) / other", results.map { "\($0.arrived) / \($0.otherJSON)" })
row("per-entity msgs per frame median/max (of \(telemetryTopicCount))", results.map { "\(format($0.entityMedian, 0)) / \($0.entityMax)" })
row("per-entity messages per frame min/mean", results.map { "\($0.entityMin) / \(format($0.entityMean, 1))" })
row("  of which unchanged values resent / in frames", results.map { "\($0.unchanged) / \($0.unchangedFrames)" })
row("messages per frame median (JSON + entities)", results.map { format(1 + $0.entityMedian, 0) })
row("other messages under api2mqtt/bms/#", results.map { "\($0.otherMessages)" })
row("frame → device JSON latency p50 (ms)", results.map { format($0.latencyP50, 3) })
row("frame → device JSON latency p99 (ms)", results.map { format($0.latencyP99, 3) })
row("frame → device JSON latency max (ms)", results.map { format($0.latencyMax, 3) })
row("latency of the phase's last frame (ms)", results.map { format($0.lastLatency, 3) })
let warnings = bridgeLog.split(separator: "\n").filter { $0.contains("warning") || $0.contains("error") }
print("")
print("bridge still running at the end: \(bridgeRunning); bridge log lines at warning or above: \(warnings.count)")
for line in warnings.prefix(10) { print("  \(line)") }
let endLoad = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
print("host load average at end: \(endLoad)")
try? FileManager.default.removeItem(at: directory)
