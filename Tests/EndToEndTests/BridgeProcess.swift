import Foundation
import TestSupport

/// The real `api2mqtt` executable, run as a child process with a generated configuration.
struct BridgeProcess {
    let process: ChildProcess
    let directory: URL
    let logFile: URL

    /// The built executable: next to the test bundle in `.build/<config>/`.
    static var executable: String {
        let bundleDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent("api2mqtt").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/api2mqtt")
                .standardized.path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// Writes `yaml` to a fresh directory and starts `api2mqtt <arguments> --config <file>`.
    static func start(
        yaml: String, arguments: [String] = ["run"], environment: [String: String] = [:]
    ) throws -> BridgeProcess {
        let directory = try TemporaryDirectory.make(prefix: "bridge")
        let config = directory.appendingPathComponent("api2mqtt.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let logFile = directory.appendingPathComponent("bridge.log")
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let process = try ChildProcess(
            executable, arguments + ["--config", config.path], environment: env, stdoutPath: logFile.path,
            stderrPath: logFile.path)
        return BridgeProcess(process: process, directory: directory, logFile: logFile)
    }

    /// Runs a one-shot command (`check`, `version`, `health`) and returns its status and output.
    static func runToCompletion(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> (status: Int32, output: String) {
        let directory = try TemporaryDirectory.make(prefix: "cmd")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.txt")
        let process = try ChildProcess(executable, arguments, stdoutPath: output.path, stderrPath: output.path)
        guard let status = await process.waitForExit(timeout: timeout) else {
            process.terminate(grace: .zero)
            throw TestSupportError("api2mqtt \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    /// Everything the process wrote so far.
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func stop() {
        process.terminate(grace: .seconds(5))
    }

    /// ``stop()``, then removes the configuration and the log: for the end of a test (a test
    /// may read the log after `stop()`).
    func stopAndRemoveFiles() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A minimal valid configuration for a broker, plus extra YAML appended as-is.
func bridgeYAML(broker: MosquittoBroker, mqttExtra: String = "", extra: String = "", httpPort: Int? = nil) -> String {
    var yaml = """
        mqtt:
          url: \(broker.url)
          client_id: bridge-under-test
        \(mqttExtra)
        log:
          level: debug
        """
    if let httpPort {
        yaml += "\nhttp:\n  listen: 127.0.0.1:\(httpPort)\n"
    } else {
        yaml += "\nhttp:\n  enabled: false\n"
    }
    return yaml + "\n" + extra
}
