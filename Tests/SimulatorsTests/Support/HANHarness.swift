import BridgeCore
import Simulators

extension CozifyHANSimulator.Configuration {
    /// A simulator on a free port that sends no telegrams by itself (tests call `emitTelegramNow()`),
    /// unless `meterDelay` is given; then one every `interval` from `meterDelay` after each start.
    static func test(
        interval: Duration = .milliseconds(50),
        meterDelay: Duration? = nil,
        token: String? = nil,
        scanDuration: Duration = .milliseconds(50),
        quirks: Set<Quirk> = []
    ) -> Self {
        CozifyHANSimulator.Configuration(
            telegramInterval: interval,
            token: token,
            meterDelay: meterDelay,
            seed: 42,
            port: 0,
            scanDuration: scanDuration,
            quirks: quirks
        )
    }

    /// Telegrams every 50 ms from the start: for stream tests that wait for meter messages.
    static var streaming: Self { .test(interval: .milliseconds(50), meterDelay: .zero) }
}

/// Starts a simulator and a client for it, runs `body`, and always stops both (also when `body` throws).
func withHAN<T>(
    _ configuration: CozifyHANSimulator.Configuration = .test(),
    keepAlive: Bool = true,
    _ body: (CozifyHANSimulator, TestHTTPClient) async throws -> T
) async throws -> T {
    let simulator = CozifyHANSimulator(configuration: configuration)
    let port = try await simulator.start()
    let http = TestHTTPClient(port: port, keepAlive: keepAlive)
    let outcome: Result<T, any Error>
    do {
        outcome = .success(try await body(simulator, http))
    } catch {
        outcome = .failure(error)
    }
    await simulator.stop()
    try await http.shutdown()
    return try outcome.get()
}

/// The simulator's port; it has one once started (and keeps it while stopped).
func port(of simulator: CozifyHANSimulator) throws -> Int {
    guard let port = simulator.port else { throw NotStarted() }
    return port
}

struct NotStarted: Error {}
