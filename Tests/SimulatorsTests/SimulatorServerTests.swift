import BridgeCore
import Hummingbird
import ServiceLifecycle
import Simulators
import Testing

/// ``SimulatorServer`` with a bare Hummingbird application, and the Cozify HAN simulator as a `Service`.
@Suite("SimulatorServer")
struct SimulatorServerTests {
    static func start(port: Int = 0) async throws -> RunningSimulator {
        try await SimulatorServer.start(port: port) { binding in
            let router = Router()
            router.get("/ping") { _, _ in "pong" }
            return Application(
                router: router,
                configuration: binding.configuration,
                onServerRunning: binding.onServerRunning,
                logger: binding.logger
            )
        }
    }

    /// Runs `body` with a server on a free port and always stops it.
    static func withServer(_ body: (RunningSimulator) async throws -> Void) async throws {
        let running = try await start()
        do {
            try await body(running)
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }

    @Test("binds a free port on 127.0.0.1, stops, restarts on the same port")
    func lifecycle() async throws {
        try await Self.withServer { running in
            #expect(running.port > 0)
            #expect(running.baseURL == "http://127.0.0.1:\(running.port)")
            #expect(running.isRunning)
            let http = TestHTTPClient(port: running.port, keepAlive: false, connectTimeout: .seconds(1))
            do {
                #expect(try await http.get("/ping").text == "pong")

                await running.stop()
                #expect(!running.isRunning)
                await #expect(throws: (any Error).self) { try await http.get("/ping") }

                try await running.restart()
                #expect(running.isRunning)
                #expect(try await http.get("/ping").text == "pong")

                await running.stopAbruptly()
                #expect(!running.isRunning)
                await #expect(throws: (any Error).self) { try await http.get("/ping") }
                await running.stop()  // a no-op when stopped
                #expect(!running.isRunning)
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    @Test("a taken port throws; a freed port can be bound again")
    func givenPort() async throws {
        var port = 0
        try await Self.withServer { first in
            port = first.port
            let clash: Result<RunningSimulator, any Error>
            do {
                clash = .success(try await Self.start(port: first.port))
            } catch {
                clash = .failure(error)
            }
            if case .success(let second) = clash {
                await second.stop()
                Issue.record("a second server bound the taken port \(first.port)")
            }
        }
        // The first server is stopped: its port is free again.
        let again = try await Self.start(port: port)
        #expect(again.port == port)
        await again.stop()
    }

    @Test("CozifyHANSimulator runs as a Service and stops on graceful shutdown")
    func simulatorAsService() async throws {
        let simulator = CozifyHANSimulator(configuration: .test())
        let group = ServiceGroup(configuration: .init(services: [simulator], logger: SimulatorServer.defaultLogger))
        let running = Task { try await group.run() }
        do {
            try await eventually("the simulator to start") { simulator.port != nil }
            let port = try port(of: simulator)
            let http = TestHTTPClient(port: port, keepAlive: false, connectTimeout: .seconds(1))
            do {
                #expect(try await http.get("/han").status == 200)
                await group.triggerGracefulShutdown()
                try await withDeadline("the service group to end") { try await running.value }
                await #expect(throws: (any Error).self) { try await http.get("/han") }
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        } catch {
            await group.triggerGracefulShutdown()
            await simulator.stop()
            throw error
        }
    }
}
