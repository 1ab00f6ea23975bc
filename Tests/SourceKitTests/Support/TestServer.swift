import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SourceKit

/// Runs a Hummingbird application on 127.0.0.1 with a kernel-chosen port for the duration of `body`.
enum TestServer {
    /// A logger that prints nothing unless `LOG_LEVEL` asks for it.
    static var logger: Logger {
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        return logger
    }

    /// The configuration every test server binds with.
    static let configuration = ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil)

    /// Serves `router` and calls `body` with the base URL (`http://127.0.0.1:<port>`).
    static func run<Value: Sendable>(
        _ router: Router<BasicRequestContext>,
        _ body: (String) async throws -> Value
    ) async throws -> Value {
        try await run(
            makeApp: { configuration, onRunning in
                Application(router: router, configuration: configuration, onServerRunning: onRunning, logger: logger)
            },
            body
        )
    }

    /// Serves the application `makeApp` builds and calls `body` with its base URL.
    static func run<App: ApplicationProtocol, Value: Sendable>(
        makeApp: (ApplicationConfiguration, @escaping @Sendable (any Channel) async -> Void) -> App,
        _ body: (String) async throws -> Value
    ) async throws -> Value {
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = makeApp(configuration) { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        }
        // Stopped gracefully (it stops accepting first), then cancelled after 2 s if a handler
        // (an endless stream) is still running. Cancelling a server while it accepts a connection
        // can crash NIO ("Deinited NIOAsyncWriter without calling finish()"), taking the whole
        // test process down.
        var groupConfiguration = ServiceGroupConfiguration(services: [app], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(2)
        groupConfiguration.maximumCancellationDuration = nil
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serviceGroup.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                group.cancelAll()
                throw SourceError.connection("test server did not start")
            }
            do {
                let value = try await body("http://127.0.0.1:\(port)")
                await serviceGroup.triggerGracefulShutdown()
                try await group.waitForAll()
                return value
            } catch {
                await serviceGroup.triggerGracefulShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}

/// Creates a pool for one test and shuts it down afterwards, on every path.
func withPool<Value>(_ body: (HTTPClientPool) async throws -> Value) async throws -> Value {
    let pool = HTTPClientPool(options: .init(connectTimeout: .seconds(2)))
    do {
        let value = try await body(pool)
        await pool.shutdown()
        return value
    } catch {
        await pool.shutdown()
        throw error
    }
}

/// A quiet logger for clients under test.
var quietLogger: Logger {
    var logger = Logger(label: "test-client")
    logger.logLevel = .critical
    return logger
}

/// A client of `base` with a test clock and no jitter.
func makeClient(
    _ base: String,
    pool: HTTPClientPool,
    auth: any AuthStrategy = NoAuth(),
    budget: RateBudget? = nil,
    clock: TestClock = TestClock(),
    timeout: Duration = .seconds(5),
    retry: RetryPolicy = .standard,
    maxBodySize: Int = 100 << 20,
    headers: [(name: String, value: String)] = [],
    logger: Logger = quietLogger
) throws -> SourceHTTPClient {
    SourceHTTPClient(
        configuration: .init(
            baseURL: try SourceURL(base),
            timeout: timeout,
            maxBodySize: maxBodySize,
            headers: headers,
            retry: retry
        ),
        auth: auth,
        budget: budget,
        pool: pool,
        clock: clock,
        logger: logger,
        random: { 0 }
    )
}
