import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `api2mqtt-simulators` executable: the device simulators live outside the daemon, and
/// `demo` and `simulate` run them from the file next to this executable.
enum SimulatorsExecutable {
    static let name = "api2mqtt-simulators"

    /// `api2mqtt-simulators` in the directory of the running executable.
    static func locate() throws -> String {
        let own = ownPath()
        let directory = own.lastIndex(of: "/").map { String(own[..<$0]) } ?? "."
        let path = (directory.isEmpty ? "" : directory) + "/" + name
        guard access(path, X_OK) == 0 else { throw SimulatorsProcessError.missing(path) }
        return path
    }

    /// The running executable: `/proc/self/exe` on Linux, else `argv[0]`.
    static func ownPath() -> String {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 {
            return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        #endif
        return CommandLine.arguments.first ?? name
    }

    /// Replaces this process with `api2mqtt-simulators ARGUMENTS` (same PID, standard input and
    /// output, signals).
    static func exec(_ arguments: [String]) throws -> Never {
        let path = try locate()
        let argv = ([path] + arguments).map { strdup($0) }
        execv(path, argv + [nil])
        let error = errno
        argv.forEach { free($0) }
        throw SimulatorsProcessError.spawn(path, error)
    }
}

enum SimulatorsProcessError: Error, CustomStringConvertible {
    case missing(String)
    case spawn(String, Int32)
    case notReady(String)

    var description: String {
        switch self {
        case .missing(let path):
            "the simulators executable is missing: \(path) (build it next to api2mqtt with "
                + "`swift build --product \(SimulatorsExecutable.name)`; release installs do not include it)"
        case .spawn(let path, let error):
            "cannot start \(path): \(String(cString: strerror(error)))"
        case .notReady(let output):
            "the simulators did not start\(output.isEmpty ? "" : ": " + output)"
        }
    }
}

/// `api2mqtt-simulators all` as a child process: every simulator on a free loopback port. The
/// child reads its standard input from a pipe this process holds, so it ends when this process
/// ends, however that happens; it runs in a process group of its own, so a terminal's Ctrl-C
/// stops the bridge first, which then stops the simulators.
final class SimulatorsChild: Sendable {
    /// One running simulator: its source type, the variable `Config/demo.yaml` reads, its URL.
    struct Endpoint: Sendable {
        let type: String
        let variable: String
        let url: String
    }

    let pid: pid_t
    let endpoints: [Endpoint]
    /// The write end of the child's standard input; closing it stops the child.
    private let input = Mutex<Int32>(-1)

    private init(pid: pid_t, input: Int32, endpoints: [Endpoint]) {
        self.pid = pid
        self.endpoints = endpoints
        self.input.withLock { $0 = input }
    }

    /// Starts the child and waits for its `ready` line.
    static func start(arguments: [String]) async throws -> SimulatorsChild {
        let path = try SimulatorsExecutable.locate()
        let stdinPipe = try makePipe()
        let stdoutPipe: (read: Int32, write: Int32)
        do { stdoutPipe = try makePipe() } catch {
            close(stdinPipe.read)
            close(stdinPipe.write)
            throw error
        }
        let pid: pid_t
        do {
            pid = try spawn(path, ["all"] + arguments, stdin: stdinPipe.read, stdout: stdoutPipe.write)
        } catch {
            [stdinPipe.read, stdinPipe.write, stdoutPipe.read, stdoutPipe.write].forEach { _ = close($0) }
            throw error
        }
        close(stdinPipe.read)
        close(stdoutPipe.write)
        let lines = await readUntilReady(stdoutPipe.read)
        let child = SimulatorsChild(pid: pid, input: stdinPipe.write, endpoints: lines.compactMap(Self.endpoint))
        guard lines.last == "ready" else {
            await child.stop()
            throw SimulatorsProcessError.notReady(lines.joined(separator: "; "))
        }
        return child
    }

    /// Closes the child's standard input and waits for it to exit; SIGKILL after 5 s.
    func stop() async {
        let descriptor = input.withLock { descriptor in
            defer { descriptor = -1 }
            return descriptor
        }
        if descriptor >= 0 { close(descriptor) }
        var status: Int32 = 0
        for _ in 0..<100 {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result == -1 && errno == ECHILD) { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }

    /// `simulator TYPE VARIABLE URL`.
    private static func endpoint(_ line: String) -> Endpoint? {
        let words = line.split(separator: " ")
        guard words.count == 4, words[0] == "simulator" else { return nil }
        return Endpoint(type: String(words[1]), variable: String(words[2]), url: String(words[3]))
    }

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { throw SimulatorsProcessError.spawn("pipe", errno) }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        return (descriptors[0], descriptors[1])
    }

    /// posix_spawn with the given standard input and output, default signal handling, and a
    /// process group of its own.
    private static func spawn(_ path: String, _ arguments: [String], stdin: Int32, stdout: Int32) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on 0 and 1; every other pipe end is close-on-exec.
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)

        let argv = ([path] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") }
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv + [nil], environment + [nil])
        guard rc == 0 else { throw SimulatorsProcessError.spawn(path, rc) }
        return pid
    }

    /// Reads the child's lines until `ready` or the end of its output, off the cooperative pool
    /// (the reads block); afterwards the rest of its output is copied to this standard output.
    private static func readUntilReady(_ descriptor: Int32) async -> [String] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var lines: [String] = []
                var pending: [UInt8] = []
                var waiting = true
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = read(descriptor, &buffer, buffer.count)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { break }
                    guard waiting else {
                        _ = buffer.withUnsafeBytes { write(1, $0.baseAddress, count) }
                        continue
                    }
                    pending += buffer[..<count]
                    while waiting, let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: pending[..<newline], as: UTF8.self)
                        pending.removeSubrange(...newline)
                        lines.append(line)
                        if line == "ready" {
                            waiting = false
                            continuation.resume(returning: lines)
                        }
                    }
                }
                close(descriptor)
                if waiting { continuation.resume(returning: lines) }
            }
        }
    }
}
