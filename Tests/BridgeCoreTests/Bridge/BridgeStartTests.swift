import BridgeCore
import ServiceLifecycle
import Testing
import TestSupport

/// What the bridge publishes at start: once per connection, whoever announces the connection.
@Suite("Bridge start")
struct BridgeStartTests {
    func bridge(_ broker: InMemoryBroker) throws -> Bridge {
        try CoreTestSupport.bridge(on: broker, settings: "publish:\n  stale_cleanup_window: 0s\n")
    }

    /// Runs the bridge until it has published its device, then shuts it down.
    func runToShutdown(_ service: Bridge, _ broker: InMemoryBroker) async throws {
        let group = ServiceGroup(configuration: .init(services: [service], logger: CoreTestSupport.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(
                await CoreTestSupport.spin(upTo: .seconds(60)) {
                    !broker.published(on: "homeassistant/button/bridge/restart/config").isEmpty
                })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("a connection the message pump announced is not announced again by run (no second discovery burst)")
    func announcedOnce() async throws {
        let broker = InMemoryBroker()
        let service = try bridge(broker)
        // The pump hands on the client's `connected` as soon as it happens, before run() is far.
        await service.brokerConnected()
        try await runToShutdown(service, broker)
        #expect(broker.published(on: "api2mqtt/bridge/info").count == 1)
        #expect(broker.published(on: "homeassistant/button/bridge/restart/config").count == 1, "the bridge device's discovery once")
    }

    @Test("without a connection event, run announces the connection itself")
    func runAnnounces() async throws {
        let broker = InMemoryBroker()
        let service = try bridge(broker)
        try await runToShutdown(service, broker)
        #expect(broker.published(on: "api2mqtt/bridge/info").count == 1)
    }
}
