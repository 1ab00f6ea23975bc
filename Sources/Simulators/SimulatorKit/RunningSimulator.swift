import Logging
import ServiceLifecycle
import Synchronization

/// A simulator server started by ``SimulatorServer/start(port:logger:gracefulShutdownTimeout:_:)``.
///
/// It keeps its port across ``stop()`` / ``restart()``, so a client configured with ``baseURL``
/// sees the device go away and come back.
public final class RunningSimulator: Sendable {
    /// The bound port on 127.0.0.1; unchanged by ``restart()``.
    public let port: Int

    private let logger: Logger
    private let timeout: Duration
    private let app: @Sendable (SimulatorServer.Binding) -> any Service
    private let launch: Mutex<Launch?>
    /// Holds the port while the server is stopped (see ``PortReservation``).
    private let reservation = Mutex<PortReservation?>(nil)

    init(launch: Launch, logger: Logger, timeout: Duration, app: @escaping @Sendable (SimulatorServer.Binding) -> any Service) {
        self.port = launch.port
        self.logger = logger
        self.timeout = timeout
        self.app = app
        self.launch = Mutex(launch)
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Whether the server is accepting connections.
    public var isRunning: Bool { launch.withLock { $0 != nil } }

    /// Shuts the server down gracefully: it stops accepting, finishes requests in flight (endless
    /// streams must end on graceful shutdown), and returns when it is gone. No-op when stopped.
    public func stop() async {
        guard let running = take() else { return }
        await running.stop()
        reserve()
    }

    /// "Down": cancels the server at once, so open connections break and new ones are refused.
    /// No-op when stopped.
    public func stopAbruptly() async {
        guard let running = take() else { return }
        await running.stopAbruptly()
        reserve()
    }

    /// Starts the server again on the same port (stopping it gracefully first if it is running).
    /// - Throws: The bind error when the port was taken in the meantime.
    public func restart() async throws {
        await stop()
        let next = try await Launch.start(port: port, logger: logger, timeout: timeout, app: app)
        launch.withLock { $0 = next }
        reservation.withLock { $0 = nil }
    }

    private func reserve() {
        let held = PortReservation(port: port)
        reservation.withLock { $0 = held }
    }

    private func take() -> Launch? {
        launch.withLock { launch in
            defer { launch = nil }
            return launch
        }
    }
}
