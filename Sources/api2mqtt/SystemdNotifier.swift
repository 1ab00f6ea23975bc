#if canImport(Glibc)
import Glibc
#endif
import ServiceLifecycle

/// A minimal `sd_notify(3)` client: sends state strings such as `READY=1` as one datagram
/// to the AF_UNIX socket systemd names in `$NOTIFY_SOCKET` (used with `Type=notify`).
///
/// Every call opens a fresh socket, sends, and closes it again, like libsystemd does, so
/// the value is freely `Sendable` and never holds a descriptor. Failures are never thrown:
/// a notification that cannot be delivered must not take the daemon down, so each call
/// just reports whether the datagram went out.
struct SystemdNotifier: Sendable {
    /// The socket address as given: a filesystem path (`/run/systemd/notify`) or an
    /// abstract-namespace name written with a leading `@`.
    let socketPath: String

    /// The watchdog timeout systemd enforces (`WatchdogSec=`), when it applies to this
    /// process. Send `WATCHDOG=1` at least every half of it (see `SystemdNotifierService`).
    let watchdogInterval: Duration?

    /// `nil` when `socketPath` is neither absolute nor abstract (`@...`), or too long for
    /// a `sockaddr_un`.
    init?(socketPath: String, watchdogInterval: Duration? = nil) {
        guard SystemdNotifier.socketAddressBytes(socketPath) != nil else { return nil }
        self.socketPath = socketPath
        self.watchdogInterval = watchdogInterval
    }

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the process
    /// environment. `nil` when `NOTIFY_SOCKET` is unset or unusable, i.e. when the process
    /// does not run under systemd with `Type=notify`.
    static func fromEnvironment() -> SystemdNotifier? {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) {
                environment[name] = String(cString: value)
            }
        }
        return from(environment: environment, pid: getpid())
    }

    /// Same as `fromEnvironment()`, from a given environment and process id (for tests).
    static func from(environment: [String: String], pid: pid_t) -> SystemdNotifier? {
        guard let socketPath = environment["NOTIFY_SOCKET"], !socketPath.isEmpty else { return nil }
        return SystemdNotifier(
            socketPath: socketPath,
            watchdogInterval: watchdogInterval(environment: environment, pid: pid)
        )
    }

    /// `WATCHDOG_USEC` as a duration, unless it is missing, zero or malformed, or
    /// `WATCHDOG_PID` names another process (the watchdog then belongs to that one).
    static func watchdogInterval(environment: [String: String], pid: pid_t) -> Duration? {
        if let watchdogPID = environment["WATCHDOG_PID"] {
            guard let owner = pid_t(watchdogPID), owner == pid else { return nil }
        }
        guard let text = environment["WATCHDOG_USEC"],
              let microseconds = Int64(text), microseconds > 0
        else { return nil }
        return .microseconds(microseconds)
    }

    // MARK: - Sending

    /// Sends one or more newline-separated assignments (`"READY=1\nSTATUS=..."`).
    /// Returns whether the whole datagram was sent.
    @discardableResult
    func notify(_ state: String) -> Bool {
        let payload = Array(state.utf8)
        guard !payload.isEmpty, let pathBytes = SystemdNotifier.socketAddressBytes(socketPath) else {
            return false
        }

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? MemoryLayout<sa_family_t>.size
        // Abstract names are length-delimited (no terminator counted); paths count their NUL.
        let isAbstract = pathBytes.first == 0
        let addressLength = socklen_t(pathOffset + pathBytes.count + (isAbstract ? 0 : 1))

        let sent: Int = withUnsafePointer(to: &address) { addressPointer in
            addressPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                payload.withUnsafeBytes { bytes in
                    while true {
                        let result = sendto(
                            fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL),
                            socketAddress, addressLength
                        )
                        if result < 0 && errno == EINTR { continue }
                        return result
                    }
                }
            }
        }
        return sent == payload.count
    }

    /// `READY=1`: start-up finished (config loaded, services running).
    @discardableResult
    func ready() -> Bool { notify("READY=1") }

    /// `STOPPING=1`: graceful shutdown has begun.
    @discardableResult
    func stopping() -> Bool { notify("STOPPING=1") }

    /// `WATCHDOG=1`: keep-alive ping for `WatchdogSec=`.
    @discardableResult
    func watchdog() -> Bool { notify("WATCHDOG=1") }

    /// `STATUS=...`: one line shown by `systemctl status`. Line breaks are replaced by
    /// spaces, so a status text can never inject another assignment.
    @discardableResult
    func status(_ text: String) -> Bool {
        let line = String(text.map { $0.isNewline ? " " : $0 })
        return notify("STATUS=\(line)")
    }

    /// `EXTEND_TIMEOUT_USEC=...`: ask for more time for the current start-up or stop phase.
    @discardableResult
    func extendTimeout(by duration: Duration) -> Bool {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return false }
        let microseconds = seconds.multipliedReportingOverflow(by: 1_000_000)
        guard !microseconds.overflow else { return false }
        return notify("EXTEND_TIMEOUT_USEC=\(microseconds.partialValue + attoseconds / 1_000_000_000_000)")
    }

    /// The bytes to put into `sun_path`: the path itself, or for `@name` a NUL followed by
    /// the name. `nil` when the address is not absolute/abstract or does not fit.
    static func socketAddressBytes(_ socketPath: String) -> [UInt8]? {
        var bytes = Array(socketPath.utf8)
        guard let first = bytes.first else { return nil }
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        switch first {
        case UInt8(ascii: "@"):
            bytes[0] = 0
            guard bytes.count >= 2, bytes.count <= capacity else { return nil }
        case UInt8(ascii: "/"):
            // A path needs room for its terminating NUL and may not contain one.
            guard bytes.count < capacity, !bytes.contains(0) else { return nil }
        default:
            return nil
        }
        return bytes
    }
}

/// Sends `WATCHDOG=1` every half `WatchdogSec=` for as long as the service group runs.
///
/// It stops, and `run()` returns, on graceful shutdown or cancellation. When the unit has
/// no watchdog (or the process is not the watchdog's target) it sends nothing and simply
/// waits for shutdown, because a service returning early would end a `ServiceGroup`.
/// READY=1 / STOPPING=1 are the daemon's business (it knows when it is ready).
struct SystemdNotifierService: Service {
    let notifier: SystemdNotifier
    /// Time between two pings; `nil` means the watchdog is off.
    let pingInterval: Duration?

    /// - Parameter pingInterval: defaults to half of `notifier.watchdogInterval`.
    init(notifier: SystemdNotifier, pingInterval: Duration? = nil) {
        self.notifier = notifier
        self.pingInterval = pingInterval ?? notifier.watchdogInterval.map { $0 / 2 }
    }

    func run() async throws {
        guard let pingInterval, pingInterval > .zero else {
            try? await gracefulShutdown()
            return
        }
        let notifier = self.notifier
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                notifier.watchdog()
                do {
                    try await Task.sleep(for: pingInterval)
                } catch {
                    return  // CancellationError: cancelled or graceful shutdown.
                }
            }
        }
    }
}
