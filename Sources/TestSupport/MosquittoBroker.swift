import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real mosquitto broker for tests: started on a free 127.0.0.1 port with a generated config
/// in a fresh temporary directory, stopped by PID (never by name).
///
/// ```swift
/// try await MosquittoBroker.with { broker in
///     // broker.url == "mqtt://127.0.0.1:<port>"
/// }
/// ```
public final class MosquittoBroker: Sendable {
    /// What the broker's listener requires.
    public struct Options: Sendable {
        /// Username/password pairs; when non-empty anonymous clients are refused.
        public var users: [String: String]
        /// TLS files (PEM) for the listener; nil means plain TCP.
        public var tls: TLSFiles?
        /// Extra mosquitto.conf lines (e.g. queue limits for benchmarks).
        public var extraConfiguration: [String]
        /// `log_type all` (every packet, for reading when a test fails); `false` keeps
        /// mosquitto's default log types, as deployed, for benchmarks: logging every packet
        /// costs the broker a formatted file write per message.
        public var logsEveryPacket: Bool

        public init(
            users: [String: String] = [:], tls: TLSFiles? = nil, extraConfiguration: [String] = [],
            logsEveryPacket: Bool = true
        ) {
            self.users = users
            self.tls = tls
            self.extraConfiguration = extraConfiguration
            self.logsEveryPacket = logsEveryPacket
        }
    }

    /// Server-side TLS files.
    public struct TLSFiles: Sendable {
        public var caFile: String
        public var certFile: String
        public var keyFile: String
        /// Demands a client certificate signed by `caFile` (mutual TLS).
        public var requireClientCertificate: Bool

        public init(caFile: String, certFile: String, keyFile: String, requireClientCertificate: Bool = false) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.requireClientCertificate = requireClientCertificate
        }
    }

    public let port: Int
    public let directory: URL
    public let options: Options
    private let process = Mutex<ChildProcess?>(nil)

    /// `mqtt://127.0.0.1:<port>` or `mqtts://localhost:<port>` for TLS brokers.
    public var url: String {
        options.tls == nil ? "mqtt://127.0.0.1:\(port)" : "mqtts://localhost:\(port)"
    }

    /// The broker's log file (log_type all), useful when a test fails.
    public var logFile: URL { directory.appendingPathComponent("mosquitto.log") }

    private init(port: Int, directory: URL, options: Options) {
        self.port = port
        self.directory = directory
        self.options = options
    }

    /// Starts a broker and waits until it accepts connections.
    public static func start(_ options: Options = Options()) async throws -> MosquittoBroker {
        // A port found free can be taken by a parallel test before mosquitto binds it: try a
        // few ports before giving up.
        var lastError: (any Error)?
        for _ in 0..<5 {
            let directory = try TemporaryDirectory.make(prefix: "mosquitto")
            let broker = MosquittoBroker(port: try FreePort.find(), directory: directory, options: options)
            try broker.writeConfiguration()
            do {
                try await broker.launch()
                return broker
            } catch {
                lastError = error
                broker.removeFiles()
            }
        }
        throw lastError ?? TestSupportError("mosquitto did not start")
    }

    /// Runs `body` with a started broker and stops it afterwards, on every exit path.
    public static func with<T>(
        _ options: Options = Options(), _ body: (MosquittoBroker) async throws -> T
    ) async throws -> T {
        let broker = try await start(options)
        do {
            let result = try await body(broker)
            broker.stop()
            broker.removeFiles()
            return result
        } catch {
            broker.stop()
            broker.removeFiles()
            throw error
        }
    }

    private func writeConfiguration() throws {
        var lines = [
            "listener \(port) 127.0.0.1",
            "persistence false",
            "log_dest file \(logFile.path)",
        ]
        lines += options.logsEveryPacket ? ["log_type all"] : ["log_type error", "log_type warning", "log_type notice", "log_type information"]
        lines += [
            "connection_messages true",
            // Stay the user who started the test (mosquitto drops root privileges otherwise and
            // then cannot read the generated files).
            "user \(ProcessInfo.processInfo.userName)",
        ]
        if options.users.isEmpty {
            lines.append("allow_anonymous true")
        } else {
            let passwordFile = directory.appendingPathComponent("passwords")
            _ = FileManager.default.createFile(atPath: passwordFile.path, contents: Data())
            for (user, password) in options.users.sorted(by: { $0.key < $1.key }) {
                try Subprocess.run("/usr/bin/mosquitto_passwd", ["-b", passwordFile.path, user, password])
            }
            lines += ["allow_anonymous false", "password_file \(passwordFile.path)"]
        }
        if let tls = options.tls {
            lines += ["cafile \(tls.caFile)", "certfile \(tls.certFile)", "keyfile \(tls.keyFile)"]
            if tls.requireClientCertificate {
                lines += ["require_certificate true", "use_identity_as_username true"]
            }
        }
        lines += options.extraConfiguration
        try (lines.joined(separator: "\n") + "\n").write(
            to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
    }

    private func launch() async throws {
        let process = try ChildProcess(Self.executable, ["-c", directory.appendingPathComponent("mosquitto.conf").path])
        self.process.withLock { $0 = process }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                throw TestSupportError("mosquitto exited at start (status \(process.terminationStatus ?? -1)): \(log)")
            }
            if FreePort.accepts(port: port) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        stop()
        throw TestSupportError("mosquitto did not listen on port \(port) within 10 s")
    }

    /// Stops the broker (SIGTERM to its PID, SIGKILL after 5 s) and waits for it to exit.
    public func stop() {
        guard let process = process.withLock({ process in defer { process = nil }; return process }) else { return }
        process.terminate(grace: .seconds(5))
    }

    /// Stops the broker for good and deletes its directory (configuration and log); `stop()`
    /// keeps them for `restart()`. For callers of `start` that do not use `with`.
    public func shutDown() {
        stop()
        removeFiles()
    }

    /// Kills the broker with SIGKILL (no clean shutdown).
    public func kill() {
        guard let process = process.withLock({ process in defer { process = nil }; return process }) else { return }
        process.terminate(grace: .zero)
    }

    /// Starts the broker again on the same port with the same configuration.
    public func restart() async throws {
        stop()
        try await launch()
    }

    /// True while the broker process runs.
    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    private func removeFiles() {
        try? FileManager.default.removeItem(at: directory)
    }

    static var executable: String {
        ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/mosquitto"
    }
}

/// A failure inside a test helper, with a readable message.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
