import Foundation
import Mosquitto
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `api2mqtt demo` and `api2mqtt simulate`, which run the `api2mqtt-simulators` executable next
/// to `api2mqtt` (the daemon contains no simulator).
@Suite("api2mqtt demo and simulate (the simulators executable)", .serialized)
struct DemoEndToEndTests {
    static let demoConfig = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Config/demo.yaml").standardized.path

    /// Starts `api2mqtt demo` against `broker`; returns the process, its log file and the
    /// simulators' PID (from its "Demo simulators running" line).
    func startDemo(_ broker: MosquittoBroker, directory: URL) async throws -> (ChildProcess, URL, pid_t) {
        let log = directory.appendingPathComponent("demo.log")
        let demo = try ChildProcess(
            BridgeProcess.executable,
            ["demo", "--mqtt-url", broker.url, "--http-port", "\(try FreePort.find())", "--config", Self.demoConfig, "--interval", "1"],
            stdoutPath: log.path, stderrPath: log.path)
        var simulators: pid_t?
        try await eventually(timeout: .seconds(60)) {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "simulators_pid=") {
                simulators = pid_t(text[range.upperBound...].prefix { $0.isNumber })
            }
            return simulators != nil || !demo.isRunning
        }
        let pid = try #require(simulators, "no simulators line: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        return (demo, log, pid)
    }

    @Test("demo runs the simulators as a child process: devices appear; SIGTERM stops the bridge and its simulators")
    func demoAndTerm() async throws {
        let directory = try TemporaryDirectory.make(prefix: "demo")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await MosquittoBroker.with { broker in
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("api2mqtt/#")
                let (demo, log, simulators) = try await startDemo(broker, directory: directory)
                defer { demo.terminate(grace: .zero) }
                #expect(Self.isAlive(simulators))
                // Values from two simulators, so the URLs reached the configuration.
                _ = try await probe.first(on: "api2mqtt/han", timeout: .seconds(60), where: { $0.payloadString.contains("energy_import") })
                _ = try await probe.first(on: "api2mqtt/router/availability", payload: "online", timeout: .seconds(60))
                demo.signal(SIGTERM)
                let status = await demo.waitForExit(timeout: .seconds(30))
                #expect(status == 0, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
                // The bridge reaped its child before exiting.
                #expect(!Self.isAlive(simulators))
            }
        }
    }

    @Test("the simulators stop by themselves when the demo is killed (their standard input closes)")
    func demoKilled() async throws {
        let directory = try TemporaryDirectory.make(prefix: "demo-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await MosquittoBroker.with { broker in
            let (demo, _, simulators) = try await startDemo(broker, directory: directory)
            demo.signal(SIGKILL)
            _ = await demo.waitForExit(timeout: .seconds(30))
            try await eventually(timeout: .seconds(30)) { !Self.isAlive(simulators) }
        }
    }

    @Test("simulate runs api2mqtt-simulators simulate in its place")
    func simulate() async throws {
        // Standard input is /dev/null: the simulator serves, reads the end of its input, stops.
        let result = try await BridgeProcess.runToCompletion(["simulate", "cozify_han", "--port", "0"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("listening "), "\(result.output)")
        let unknown = try await BridgeProcess.runToCompletion(["simulate", "no_such_type"])
        #expect(unknown.status != 0 && unknown.output.contains("no simulator for 'no_such_type'"), "\(unknown.output)")
    }

    @Test("demo without api2mqtt-simulators next to it exits 1 and says what is missing")
    func missingSimulators() async throws {
        // A hard link of the executable in a directory of its own (same file system as the build).
        let source = URL(fileURLWithPath: BridgeProcess.executable)
        let directory = source.deletingLastPathComponent().appendingPathComponent("lonely-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lonely = directory.appendingPathComponent("api2mqtt")
        try FileManager.default.linkItem(at: source, to: lonely)
        let output = directory.appendingPathComponent("out.txt")
        let process = try ChildProcess(
            lonely.path, ["demo", "--config", Self.demoConfig], stdoutPath: output.path, stderrPath: output.path)
        let status = await process.waitForExit(timeout: .seconds(30))
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(status == 1, "\(text)")
        #expect(text.contains("the simulators executable is missing: \(directory.path)/api2mqtt-simulators"), "\(text)")
    }

    /// True while `pid` exists and is not a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].hasPrefix(") Z")
    }
}
