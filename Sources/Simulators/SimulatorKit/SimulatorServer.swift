import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Runs a simulator's Hummingbird application on 127.0.0.1 and hands back a ``RunningSimulator``.
///
/// ```swift
/// let running = try await SimulatorServer.start(port: 0) { binding in
///     Application(router: router, configuration: binding.configuration,
///                 onServerRunning: binding.onServerRunning, logger: binding.logger)
/// }
/// print(running.port)   // the port the kernel picked
/// await running.stop()
/// ```
///
/// The closure builds the application each time the server (re)starts; it must pass the binding's
/// configuration and `onServerRunning` through, which is how the bound port is learnt.
public enum SimulatorServer {
    /// What the application built by ``start(port:logger:gracefulShutdownTimeout:_:)`` must use.
    public struct Binding: Sendable {
        /// Binds 127.0.0.1 on the requested port (0 for a free one).
        public let configuration: ApplicationConfiguration
        /// Reports the bound port back to ``SimulatorServer``.
        public let onServerRunning: @Sendable (any Channel) async -> Void
        /// The logger the simulator was started with.
        public let logger: Logger
        /// The run's open connections: pass `connections.handler()` to the server's
        /// `additionalChannelHandlers`, so an abrupt stop cuts them.
        public let connections: ConnectionTracker
    }

    /// A logger that shows critical messages only: injected faults (an abrupt stop, a dropped
    /// connection) make Hummingbird log errors that are expected, so simulators stay quiet in tests.
    public static var defaultLogger: Logger {
        var logger = Logger(label: "api2mqtt.simulator")
        logger.logLevel = .critical
        return logger
    }

    /// Starts the application built by `app` on 127.0.0.1 and returns once it accepts connections.
    /// - Parameters:
    ///   - port: The port to bind; 0 picks a free one.
    ///   - logger: Passed to the application and its service group.
    ///   - gracefulShutdownTimeout: After this long a graceful ``RunningSimulator/stop()`` cancels what is left.
    ///   - app: Builds the application (called again by ``RunningSimulator/restart()``).
    /// - Throws: The bind error when the port is taken.
    public static func start(
        port: Int = 0,
        logger: Logger = defaultLogger,
        gracefulShutdownTimeout: Duration = .seconds(5),
        _ app: @escaping @Sendable (Binding) -> any Service
    ) async throws -> RunningSimulator {
        let launch = try await Launch.start(port: port, logger: logger, timeout: gracefulShutdownTimeout, app: app)
        return RunningSimulator(launch: launch, logger: logger, timeout: gracefulShutdownTimeout, app: app)
    }
}

/// Thrown when a simulator's server ended before it accepted connections.
public struct SimulatorServerError: Error, Sendable, CustomStringConvertible {
    /// What happened.
    public let description: String
}

/// One run of a simulator's application: its task, service group and bound port.
struct Launch: Sendable {
    let task: Task<Void, Never>
    let group: ServiceGroup
    let port: Int
    let connections: ConnectionTracker

    static func start(
        port: Int,
        logger: Logger,
        timeout: Duration,
        app: @Sendable (SimulatorServer.Binding) -> any Service
    ) async throws -> Launch {
        let (events, continuation) = AsyncStream<Result<Int, any Error>>.makeStream()
        let connections = ConnectionTracker()
        let binding = SimulatorServer.Binding(
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), reuseAddress: true),
            onServerRunning: { channel in continuation.yield(.success(channel.localAddress?.port ?? port)) },
            logger: logger,
            connections: connections
        )
        var configuration = ServiceGroupConfiguration(services: [app(binding)], logger: logger)
        configuration.maximumGracefulShutdownDuration = timeout
        // No fatalError when cancellation is slow: on a loaded machine a starved cooperative pool can
        // delay it for seconds, and a crash would take every other test in the process down with it.
        configuration.maximumCancellationDuration = nil
        let group = ServiceGroup(configuration: configuration)
        let task = Task {
            do {
                try await group.run()
                continuation.yield(.failure(SimulatorServerError(description: "server on port \(port) ended before it ran")))
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        for await event in events {
            switch event {
            case .success(let boundPort):
                return Launch(task: task, group: group, port: boundPort, connections: connections)
            case .failure(let error):
                throw error
            }
        }
        throw SimulatorServerError(description: "server on port \(port) ended before it ran")
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }

    func stopAbruptly() async {
        task.cancel()
        connections.closeAll()
        await task.value
        connections.closeAll()
    }
}
