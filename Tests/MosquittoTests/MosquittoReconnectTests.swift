import Foundation
import Logging
import Mosquitto
import Synchronization
import Testing
import TestSupport

@Suite("Reconnect, offline queue and deadlines", .serialized)
struct MosquittoReconnectTests {
    @Test("after a broker restart the client reconnects, resubscribes and delivers queued QoS 1 messages")
    func reconnect() async throws {
        try await MosquittoBroker.with { broker in
            var config = try configuration(for: broker, clientID: "reconnecting")
            config.birth = OutgoingMessage(topic: "rc/state", payload: "online")
            try await withClient(config) { client in
                try await client.subscribe("rc/in")
                broker.stop()
                try await waitUntil { !client.isConnected }
                // Published while the broker is down: held in our offline queue.
                let queued = Task {
                    // Retained, so the probe sees them even if the client reconnects before it subscribes.
                    for index in 0..<3 {
                        try await client.publish("rc/out/\(index)", string: "queued \(index)", qos: .atLeastOnce, retain: true)
                    }
                }
                try await waitUntil { client.offlineQueueCount == 1 }
                try await broker.restart()
                try await MQTTProbe.with(broker) { probe in
                    try await probe.subscribe("rc/#")
                    try await client.waitUntilConnected(timeout: .seconds(60))
                    try await queued.value
                    // Resubscribed: a message to rc/in reaches the client again.
                    let got = Mutex<String?>(nil)
                    let receiving = Task {
                        for await message in client.messages where message.topic == "rc/in" {
                            got.withLock { $0 = message.payloadString }
                            return
                        }
                    }
                    for _ in 0..<50 where got.withLock({ $0 }) == nil {
                        try await probe.client.publish("rc/in", string: "after restart", qos: .atLeastOnce)
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    receiving.cancel()
                    #expect(got.withLock { $0 } == "after restart")
                    let payloads = try await (0..<3).asyncMap { try await probe.next(on: "rc/out/\($0)").payloadString }
                    #expect(payloads == ["queued 0", "queued 1", "queued 2"])
                    #expect(try await probe.first(on: "rc/state").payloadString == "online")
                }
                #expect(client.statistics.reconnects.load(ordering: .relaxed) == 1)
            }
        }
    }

    @Test("the offline queue is bounded: overflow drops the oldest and counts it")
    func boundedQueue() async throws {
        try await MosquittoBroker.with { broker in
            var config = try configuration(for: broker)
            config.offlineQueueLimit = 2
            try await withClient(config) { client in
                broker.stop()
                try await waitUntil { !client.isConnected }
                let first = Task { try await client.publish("q/x", string: "1", qos: .atLeastOnce) }
                try await waitUntil { client.offlineQueueCount == 1 }
                try client.send("q/x", payload: Array("2".utf8), qos: .atLeastOnce)
                try client.send("q/x", payload: Array("3".utf8), qos: .atLeastOnce)
                await #expect(throws: MosquittoError.droppedFromOfflineQueue) { try await first.value }
                #expect(client.offlineQueueCount == 2)
                #expect(client.statistics.offlineDropped.load(ordering: .relaxed) == 1)
                try client.send("q/x", payload: Array("qos0".utf8), qos: .atMostOnce)
                #expect(client.statistics.offlineDiscardedQoS0.load(ordering: .relaxed) == 1)
            }
        }
    }

    @Test("a publish waiting for its acknowledgement has a deadline and honours cancellation")
    func deadlineAndCancellation() async throws {
        try await MosquittoBroker.with { broker in
            var config = try configuration(for: broker)
            config.publishTimeout = .milliseconds(300)
            try await withClient(config) { client in
                broker.stop()
                try await waitUntil { !client.isConnected }
                await #expect(throws: MosquittoError.timeout(operation: "publish to d/x", after: .milliseconds(300))) {
                    try await client.publish("d/x", string: "late", qos: .atLeastOnce)
                }
                #expect(client.offlineQueueCount == 0)
            }
            config.publishTimeout = .seconds(60)
            try await broker.restart()
            try await withClient(config) { client in
                broker.stop()
                try await waitUntil { !client.isConnected }
                let waiting = Task { try await client.publish("d/y", string: "never", qos: .atLeastOnce) }
                try await waitUntil { client.offlineQueueCount == 1 }
                waiting.cancel()
                await #expect(throws: CancellationError.self) { try await waiting.value }
                #expect(client.offlineQueueCount == 0)
            }
        }
    }

    @Test("stopping a client that keeps reconnecting to a broker that is down returns")
    func stopWhileReconnecting() async throws {
        let broker = try await MosquittoBroker.start()
        defer { broker.shutDown() }
        var config = try configuration(for: broker)
        config.reconnectMaxDelay = 1
        let client = try MosquittoClient(configuration: config, logger: Logger(label: "test"))
        let running = Task { try await client.run() }
        try await client.waitUntilConnected(timeout: .seconds(60))
        broker.stop()
        try await waitUntil { !client.isConnected }
        // Inside libmosquitto's reconnect loop (attempts at most 1 s apart).
        try await Task.sleep(for: .milliseconds(1500))
        running.cancel()
        let finished = Mutex(false)
        Task {
            _ = try? await running.value
            finished.withLock { $0 = true }
        }
        // Generous: this fails only on a hang (a join on a network thread that never ends).
        try await waitUntil(timeout: .seconds(30)) { finished.withLock { $0 } }
        #expect(!client.isConnected)
    }

    @Test("starting while the broker is down keeps retrying, logs once (not per attempt) and connects once it is up")
    func brokerDownAtStart() async throws {
        let broker = try await MosquittoBroker.start()
        defer { broker.shutDown() }
        broker.stop()
        var config = try configuration(for: broker)
        config.reconnectMaxDelay = 1
        let recorder = LogRecorder()
        let client = try MosquittoClient(configuration: config, logger: Logger(label: "test") { _ in recorder })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            // Several attempts at a 1 s cap happen in 3.5 s.
            try await Task.sleep(for: .milliseconds(3500))
            #expect(!client.isConnected)
            let queued = Task { try await client.publish("late/x", string: "held", qos: .atLeastOnce) }
            try await broker.restart()
            try await client.waitUntilConnected(timeout: .seconds(60))
            try await queued.value
            group.cancelAll()
        }
        let unreachable = recorder.lines.filter { $0.contains("not reachable") }
        #expect(unreachable.count == 1, "\(recorder.lines)")
        #expect(recorder.lines.filter { $0.contains("Broker connected") }.count == 1)
    }
}

/// Polls `condition` every 20 ms until it holds.
func waitUntil(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
        guard ContinuousClock.now < deadline else { throw TestSupportError("condition not met within \(timeout)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
