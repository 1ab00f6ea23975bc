import BridgeCore
import Foundation
import Mosquitto
import Simulators
import TestSupport

/// One memory and CPU sample of the bridge.
struct SoakSample {
    var elapsed: Double
    var rss: Int
    var anon: Int
    var cpu: Double
    var states: Int
}

/// `soak [--duration S] [--rate R]`: the Cozify HAN simulator streams telegrams over SSE at R per
/// second for S seconds; the bridge's VmRSS and RssAnon (/proc/PID/status) and CPU time
/// (/proc/PID/stat) are sampled every `interval` seconds. Prints start/end/max, the least-squares
/// slope in kB per hour (over all samples, and after the first 10 % of the run as warm-up), CPU
/// seconds, and how many device states reached MQTT.
func soak(api2mqtt: String, duration: Double, rate: Double, interval: Double) async throws -> Bool {
    let broker = try await MosquittoBroker.start(.init(extraConfiguration: ["set_tcp_nodelay true"], logsEveryPacket: false))
    let simulator = CozifyHANSimulator(configuration: .init(telegramInterval: .seconds(1) / rate))
    let simulatorPort = try await simulator.start()
    let bridge = try BridgeUnderTest.start(api2mqtt: api2mqtt, brokerPort: broker.port, simulatorPort: simulatorPort, logLevel: "warning")
    let pid = bridge.process.pid

    print("soak: \(format(duration, 0)) s of Cozify HAN telegrams at \(format(rate, 0))/s (SSE) through the real api2mqtt (\(api2mqtt))")
    print("  sampling the bridge's VmRSS, RssAnon (/proc/\(pid)/status) and CPU (/proc/\(pid)/stat) every \(format(interval, 0)) s")
    print("  host: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average at start \(ProcessFigures.hostLoad())")

    let states = Locked(0)
    let online = Locked(false)
    let session = try await Session.open(port: broker.port, clientID: "fault-suite-soak") { message, _ in
        if message.topic == "api2mqtt/han" {
            states.withLock { $0 += 1 }
        } else if message.topic == "api2mqtt/han/availability" {
            online.withLock { $0 = message.payloadString == "online" }
        }
    }
    var samples: [SoakSample] = []
    var failure: String?
    var telegramsBefore = 0
    do {
        try await session.subscribe(["api2mqtt/han", "api2mqtt/han/availability"])
        guard await waitFor(.seconds(60), { online.value && states.value > 0 }) else {
            throw TestSupportError("no HAN state reached MQTT within 60 s")
        }
        telegramsBefore = simulator.state.telegramCount
        let start = ContinuousClock.now
        var next = 0
        while true {
            let due = start + .seconds(interval) * next
            if ContinuousClock.now < due { try await Task.sleep(until: due, clock: .continuous) }
            guard bridge.process.isRunning else {
                throw TestSupportError("the bridge exited (status \(bridge.process.terminationStatus ?? -1)) after \(format(seconds(ContinuousClock.now - start), 0)) s")
            }
            guard let figures = ProcessFigures.memory(pid), let cpu = ProcessFigures.cpuSeconds(pid) else { throw TestSupportError("/proc/\(pid) unreadable") }
            let sample = SoakSample(elapsed: seconds(ContinuousClock.now - start), rss: figures.rss, anon: figures.anon, cpu: cpu, states: states.value)
            samples.append(sample)
            if next % max(1, Int(60 / interval)) == 0 {
                print("  t=\(format(sample.elapsed, 0)) s  VmRSS \(sample.rss) kB  RssAnon \(sample.anon) kB  CPU \(format(sample.cpu, 2)) s  states \(sample.states)")
            }
            if sample.elapsed >= duration { break }
            next += 1
        }
    } catch {
        failure = "\(error)"
    }
    let telegrams = simulator.state.telegramCount - telegramsBefore

    print("")
    print("results")
    if let first = samples.first, let last = samples.last {
        let span = last.elapsed - first.elapsed
        row("samples", "\(samples.count) over \(format(span, 0)) s")
        row("VmRSS start / end / max", "\(first.rss) / \(last.rss) / \(samples.map(\.rss).max() ?? 0) kB")
        row("RssAnon start / end / max", "\(first.anon) / \(last.anon) / \(samples.map(\.anon).max() ?? 0) kB")
        let hours = { (sample: SoakSample) in sample.elapsed / 3600 }
        row("VmRSS slope, all samples (least squares)", "\(format(slope(samples.map { (x: hours($0), y: Double($0.rss)) }), 1)) kB/hour")
        row("RssAnon slope, all samples", "\(format(slope(samples.map { (x: hours($0), y: Double($0.anon)) }), 1)) kB/hour")
        let warm = samples.filter { $0.elapsed >= first.elapsed + span / 10 }
        row("VmRSS slope after the first 10 % (warm-up)", "\(format(slope(warm.map { (x: hours($0), y: Double($0.rss)) }), 1)) kB/hour")
        row("RssAnon slope after the first 10 %", "\(format(slope(warm.map { (x: hours($0), y: Double($0.anon)) }), 1)) kB/hour")
        let cpu = last.cpu - first.cpu
        row("bridge CPU over the run (utime + stime)", "\(format(cpu, 2)) s (\(format(100 * cpu / max(span, 1), 2)) % of one core)")
        row("telegrams sent by the simulator", "\(telegrams) (\(format(Double(telegrams) / max(span, 1), 1))/s)")
        let reached = last.states - first.states
        row("device states reaching MQTT (api2mqtt/han)", "\(reached) (\(format(Double(reached) / max(span, 1), 1))/s)")
        row("CPU per telegram", "\(format(1000 * cpu / Double(max(telegrams, 1)), 3)) ms")
    }
    let bridgeRunning = bridge.process.isRunning
    row("bridge crashes", bridgeRunning ? "0" : "1 (exit status \(bridge.process.terminationStatus ?? -1))")
    bridge.printMetrics(["messages_published_total", "incoming_dropped_total", "offline_dropped_total"])
    let warnings = bridge.warnings()
    row("bridge log lines at warning or above", "\(warnings.count)")
    for line in warnings.prefix(5) { print("    \(line.prefix(200))") }
    row("host load average at end", ProcessFigures.hostLoad())
    let exitStatus = bridge.stop()
    row("bridge exit status at SIGTERM", "\(exitStatus.map { "\($0)" } ?? "none")")
    if let failure {
        print("run failed: \(failure)")
        bridge.printTail()
    }
    await session.close()
    await simulator.stop()
    broker.shutDown()
    let ok = failure == nil && bridgeRunning && exitStatus == 0
    if ok && ProcessInfo.processInfo.environment["KEEP"] == nil { bridge.removeFiles() } else { print("bridge files kept in \(bridge.directory.path)") }
    return ok
}
