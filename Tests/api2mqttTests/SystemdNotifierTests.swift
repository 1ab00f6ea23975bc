#if canImport(Glibc)
import Glibc
#endif
import Mosquitto
import Testing

@testable import api2mqtt

/// A real AF_UNIX datagram socket standing in for systemd's notify socket.
private final class NotifySocket {
    let fd: Int32
    let address: String
    private let directory: String?

    /// Binds a socket file in a fresh temporary directory.
    init() throws {
        var template = Array("/tmp/api2mqtt-notify-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw SocketError(call: "mkdtemp") }
        let directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.directory = directory
        self.address = directory + "/notify.sock"
        self.fd = try NotifySocket.bound(to: Array(address.utf8), length: address.utf8.count + 1)
    }

    /// Binds an abstract-namespace socket; `address` is the `@name` form.
    init(abstractName: String) throws {
        self.directory = nil
        self.address = "@" + abstractName
        self.fd = try NotifySocket.bound(to: [0] + Array(abstractName.utf8), length: abstractName.utf8.count + 1)
    }

    deinit {
        close(fd)
        if let directory {
            unlink(address)
            rmdir(directory)
        }
    }

    private static func bound(to pathBytes: [UInt8], length: Int) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(offset + length))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw SocketError(call: "bind")
        }
        // Never hang a test: give up reading after 60 s (only a hang guard: on a loaded machine
        // a datagram that is due can take seconds, and a short wait would decide the verdict).
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// The next datagram, polled without blocking a cooperative thread (the service under test
    /// runs on the same small pool); nil after 60 s, a hang guard only.
    func next() async -> String? {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count >= 0 { return String(decoding: buffer[0..<count], as: UTF8.self) }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// The next datagram, or nil after the receive timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

private struct SocketError: Error {
    let call: String
}

@Suite("SystemdNotifier")
struct SystemdNotifierTests {
    @Test("READY=1 reaches a socket file named by NOTIFY_SOCKET")
    func readyOverPathSocket() throws {
        let socket = try NotifySocket()
        let notifier = try #require(SystemdNotifier.from(environment: ["NOTIFY_SOCKET": socket.address], pid: getpid()))
        #expect(notifier.ready())
        #expect(socket.receive() == "READY=1")
        #expect(notifier.stopping())
        #expect(socket.receive() == "STOPPING=1")
        #expect(notifier.watchdog())
        #expect(socket.receive() == "WATCHDOG=1")
    }

    @Test("An @name address is sent to the abstract namespace")
    func abstractNamespace() throws {
        let socket = try NotifySocket(abstractName: "api2mqtt-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let notifier = try #require(SystemdNotifier(socketPath: socket.address))
        #expect(notifier.ready())
        #expect(socket.receive() == "READY=1")
    }

    @Test("STATUS= follows each broker connection change as it is reported (no polling)")
    func readinessFollowsConnection() async throws {
        let socket = try NotifySocket()
        let notifier = try #require(SystemdNotifier(socketPath: socket.address))
        let reporter = ReadinessReporter(notifier: notifier, broker: "mqtt://127.0.0.1:1883")
        let running = Task { try await reporter.run() }
        defer { running.cancel() }
        #expect(await socket.next() == "READY=1")
        #expect(await socket.next() == "STATUS=waiting for the MQTT broker")
        reporter.connectionChanged(.connected(reconnect: false))
        #expect(await socket.next() == "STATUS=connected to mqtt://127.0.0.1:1883")
        reporter.connectionChanged(.disconnected)
        #expect(await socket.next() == "STATUS=MQTT broker unreachable, retrying")
        reporter.connectionChanged(.connected(reconnect: true))
        #expect(await socket.next() == "STATUS=connected to mqtt://127.0.0.1:1883")
    }

    @Test("STATUS= stays one line")
    func statusIsOneLine() throws {
        let socket = try NotifySocket()
        let notifier = try #require(SystemdNotifier(socketPath: socket.address))
        #expect(notifier.status("2 sources\nREADY=1"))
        #expect(socket.receive() == "STATUS=2 sources READY=1")
    }

    @Test("Sending to a missing socket reports failure instead of throwing")
    func missingSocket() throws {
        let notifier = try #require(SystemdNotifier(socketPath: "/nonexistent/api2mqtt/notify.sock"))
        #expect(!notifier.ready())
    }

    @Test("Without a usable NOTIFY_SOCKET there is no notifier")
    func noNotifier() {
        #expect(SystemdNotifier.from(environment: [:], pid: 1) == nil)
        #expect(SystemdNotifier.from(environment: ["NOTIFY_SOCKET": ""], pid: 1) == nil)
        #expect(SystemdNotifier.from(environment: ["NOTIFY_SOCKET": "relative/path"], pid: 1) == nil)
        #expect(SystemdNotifier.from(environment: ["NOTIFY_SOCKET": "@"], pid: 1) == nil)
        #expect(SystemdNotifier.from(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)], pid: 1) == nil)
    }

    @Test("WATCHDOG_USEC applies only to the process WATCHDOG_PID names")
    func watchdogInterval() throws {
        let base = ["NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "60000000"]
        let mine = try #require(SystemdNotifier.from(environment: base, pid: 42))
        #expect(mine.watchdogInterval == .seconds(60))
        var withPID = base
        withPID["WATCHDOG_PID"] = "42"
        #expect(SystemdNotifier.from(environment: withPID, pid: 42)?.watchdogInterval == .seconds(60))
        #expect(SystemdNotifier.from(environment: withPID, pid: 43)?.watchdogInterval == nil)
        #expect(SystemdNotifier.from(environment: ["NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "0"], pid: 1)?.watchdogInterval == nil)
        #expect(SystemdNotifier.from(environment: ["NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "abc"], pid: 1)?.watchdogInterval == nil)
        #expect(SystemdNotifier.from(environment: ["NOTIFY_SOCKET": "/x"], pid: 1)?.watchdogInterval == nil)
    }

    @Test("The watchdog service pings every half interval and returns when cancelled")
    func watchdogServiceStopsOnCancel() async throws {
        let socket = try NotifySocket()
        let notifier = try #require(SystemdNotifier.from(
            environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "100000"],
            pid: getpid()
        ))
        let service = SystemdNotifierService(notifier: notifier)
        #expect(service.pingInterval == .milliseconds(50))

        let running = Task { try await service.run() }
        #expect(await socket.next() == "WATCHDOG=1")
        #expect(await socket.next() == "WATCHDOG=1")
        running.cancel()
        try await running.value  // returns instead of throwing CancellationError
    }
}
