import ServiceLifecycle
import Synchronization

/// A faithful simulator of the Cozify HAN reader (`shared/apis/cozify-han-reader.openapi.yaml`) on
/// 127.0.0.1: every path of the document, realistic three-phase meter data, an optional bearer token,
/// the shared ``FaultPlan`` and the real-firmware quirks of `FIELD-NOTES.md`.
///
/// ```swift
/// let simulator = CozifyHANSimulator(configuration: .init(telegramInterval: .milliseconds(50)))
/// let port = try await simulator.start()
/// // … point the bridge at http://127.0.0.1:\(port) …
/// simulator.faults.enable(.energyGlitch, times: 1)
/// let sent = simulator.emitTelegramNow()
/// await simulator.stop()
/// ```
///
/// It is also a `Service`: run it in a `ServiceGroup` (demo mode) and it stops on graceful shutdown.
public final class CozifyHANSimulator: Service, Sendable {
    /// How this simulator behaves.
    public var configuration: Configuration { device.configuration }
    /// Faults and quirks, switchable at run time.
    public var faults: FaultPlan { device.faults }
    /// Every request received.
    public var requests: RequestLog { device.requests }

    private let device: CozifyHANDevice
    private let server = Mutex<RunningSimulator?>(nil)

    /// Creates a stopped simulator.
    public init(configuration: Configuration = Configuration()) {
        self.device = CozifyHANDevice(configuration: configuration)
    }

    /// The current configuration, the telegrams sent and the open streams.
    public var state: CozifyHANState { device.state }

    /// The bound port once started (kept while stopped, so a restart reuses it).
    public var port: Int? { server.withLock { $0?.port } }

    /// `http://127.0.0.1:<port>` once started.
    public var baseURL: String? { server.withLock { $0?.baseURL } }

    /// Starts serving (again, on the same port, after ``stop()``) and returns the port.
    /// - Throws: The bind error when the port is taken.
    @discardableResult
    public func start() async throws -> Int {
        if let running = server.withLock({ $0 }) {
            if !running.isRunning { try await running.restart() }
            return running.port
        }
        let device = device
        let running = try await SimulatorServer.start(port: device.configuration.port, logger: device.configuration.logger) { binding in
            device.makeApplication(binding)
        }
        server.withLock { $0 = running }
        return running.port
    }

    /// Stops gracefully: open SSE/WS streams end, then the server closes. The port stays reserved for ``start()``.
    public func stop() async {
        device.hub.shutdown()
        await server.withLock { $0 }?.stop()
    }

    /// "Down": drops the server at once (connections break, new ones are refused) until ``start()`` or ``restart()``.
    public func stopAbruptly() async {
        // Streams first: a stream handler waiting for the next telegram would otherwise keep the
        // server (and its listening socket, which still accepts) alive until it notices.
        device.hub.shutdown()
        await server.withLock { $0 }?.stopAbruptly()
    }

    /// Stops gracefully and starts again on the same port, like a reader reboot: `/meter` answers 503
    /// until the next telegram.
    @discardableResult
    public func restart() async throws -> Int {
        await stop()
        return try await start()
    }

    /// Runs as a `Service`: starts, waits for graceful shutdown, stops.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }

    /// Sends `telegram` as given (no quirks) on every open stream and stores it as the latest
    /// reading: for benchmarks and tests that need to recognise each telegram downstream.
    public func emit(_ telegram: CozifyHANTelegram) {
        device.emit(telegram)
    }

    /// Generates the next telegram now (quirks applied), stores it as the reader's latest reading and
    /// sends it on every open stream. Works while stopped too (nobody hears it).
    @discardableResult
    public func emitTelegramNow() -> CozifyHANTelegram {
        device.emitTelegram()
    }
}
