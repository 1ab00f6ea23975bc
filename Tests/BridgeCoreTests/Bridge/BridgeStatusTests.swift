import BridgeCore
import Foundation
import Logging
import Synchronization
import ServiceLifecycle
import Testing
import TestSupport

/// `bridge/sources`, `bridge/info` and the bridge device follow source status changes.
@Suite("Bridge status updates")
struct BridgeStatusTests {
    @Test("a source status change republishes bridge/sources and the connectivity sensor at once")
    func statusChangeRepublishes() async throws {
        let broker = InMemoryBroker()
        let service = try CoreTestSupport.bridge(on: broker, settings: "homeassistant:\n  enabled: false\n")
        let status = Status()
        service.attach(
            Bridge.SourceControl(
                summaries: { [Bridge.SourceSummary(id: "han", type: "cozify_han", name: "HAN", status: status.value)] },
                refresh: { _ throws(BridgeRequestError) in }, restart: { _ throws(BridgeRequestError) in }, republishState: {}))
        let group = ServiceGroup(configuration: .init(services: [service], logger: CoreTestSupport.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let sources = { () -> String? in
                broker.retained["api2mqtt/bridge/sources"].flatMap(CoreTestSupport.parse)?["han"]?["status"]?.stringValue
            }
            let connectivity = { () -> JSONValue? in
                broker.retained["api2mqtt/bridge"].flatMap(CoreTestSupport.parse)?["connectivity_han"]
            }
            #expect(await CoreTestSupport.spin(upTo: .seconds(60), until: { sources() == "online" }))
            #expect(connectivity() == .bool(true))

            status.value = "offline"
            service.sourceStatusChanged()
            #expect(await CoreTestSupport.spin(upTo: .seconds(60), until: { sources() == "offline" }), "bridge/sources follows")
            #expect(connectivity() == .bool(false), "the bridge device's connectivity sensor follows")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// A device shown `online` takes commands: no availability goes out before the command
/// subscriptions (an automation that sends a command on seeing `online` lost it to a broker that
/// had no subscription yet: TinyBMSEndToEndTests' retained-restart case, 1 run in 12 under load).
@Suite("Bridge start order")
struct BridgeStartOrderTests {
    @Test("availability set before the bridge runs goes out only after the command filters are subscribed")
    func availabilityAfterCommandSubscriptions() async throws {
        let broker = InMemoryBroker()
        let service = try CoreTestSupport.bridge(on: broker)
        // A source that came online before the bridge service ran (they start side by side).
        await service.availability.set("han", online: true)
        #expect(broker.published(on: "api2mqtt/han/availability").isEmpty, "online before any command subscription")

        let group = ServiceGroup(configuration: .init(services: [service], logger: CoreTestSupport.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let online = { broker.published(on: "api2mqtt/han/availability").map(\.payload) == [Array("online".utf8)] }
            #expect(await CoreTestSupport.spin(upTo: .seconds(60), until: online), "published once the bridge runs")
            #expect(Set(CommandTopic.filters(base: "api2mqtt")).isSubset(of: Set(broker.subscriptions)))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// A status the test changes while the service reads it.
final class Status: Sendable {
    private let state = Mutex("online")
    var value: String {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
