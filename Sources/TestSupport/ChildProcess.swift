import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, with an empty signal mask and default signal
/// handlers. (Foundation's `Process` passes on the test runner's blocked signals, so a child
/// would ignore SIGTERM.) Stopped by PID, never by name.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`; output goes to the given files (or /dev/null).
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        stdoutPath: String? = nil, stderrPath: String? = nil
    ) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Nothing else of ours: a listening socket inherited by the child (a simulator's, say)
        // would keep accepting connections after the test closed it.
        Self.closeInheritedDescriptors(&actions)

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let environmentList = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") }
        defer { environmentList.forEach { free($0) } }
        var pid: pid_t = 0
        var argvList = argv + [nil]
        var envList = environmentList + [nil]
        let rc = posix_spawn(&pid, executable, &actions, &attributes, &argvList, &envList)
        guard rc == 0 else { throw TestSupportError("posix_spawn \(executable) failed: errno \(rc)") }
        self.pid = pid
    }

    /// Adds "close every descriptor from 3 up" (glibc ≥ 2.34's `addclosefrom_np`, looked up at
    /// run time because Swift's Glibc module does not export it), else one close per open one.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap({ Int32($0) }) where descriptor > 2 && fcntl(descriptor, F_GETFD) != -1 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }

    deinit {
        if isRunning {
            Glibc.kill(pid, SIGKILL)
            _ = waitForExitBlocking(timeout: .seconds(5))
        }
    }

    /// True until the process has exited (and been reaped).
    public var isRunning: Bool {
        exitStatus.withLock { status in
            if status != nil { return false }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                status = raw
                return false
            }
            return result == 0
        }
    }

    /// The exit code, or 128 + signal number when killed by a signal; nil while running.
    public var terminationStatus: Int32? {
        guard !isRunning, let raw = exitStatus.withLock({ $0 }) else { return nil }
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// Sends a signal to the process.
    public func signal(_ signal: Int32) {
        guard isRunning else { return }
        Glibc.kill(pid, signal)
    }

    /// Waits (polling every 10 ms, without blocking a thread) until the process exits.
    /// - Returns: its termination status, or nil when it still runs after `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return terminationStatus
    }

    /// Blocking variant of ``waitForExit(timeout:)`` for `deinit` and `defer` blocks.
    @discardableResult
    func waitForExitBlocking(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline { return nil }
            usleep(10_000)
        }
        return terminationStatus
    }

    /// SIGTERM, then SIGKILL if it outlives `grace` (immediately when `grace` is zero).
    public func terminate(grace: Duration = .seconds(5)) {
        guard isRunning else { return }
        if grace > .zero {
            Glibc.kill(pid, SIGTERM)
            if waitForExitBlocking(timeout: grace) != nil { return }
        }
        Glibc.kill(pid, SIGKILL)
        waitForExitBlocking(timeout: .seconds(10))
    }
}
