import Foundation
import Logging
import Mosquitto
import Synchronization
import Testing
import TestSupport

/// The client's own network thread (`NetworkLoop`): woken by publishes, pinging on time.
@Suite("Network thread against a real mosquitto", .serialized)
struct NetworkLoopTests {
    @Test("bursts and single messages from several tasks all go out at once: none waits for the thread's idle wake-up")
    func publishesWakeTheThread() async throws {
        try await MosquittoBroker.with { broker in
            try await MQTTProbe.with(broker) { probe in
                try await probe.subscribe("nl/#")
                var config = try configuration(for: broker)
                // Idle, the thread waits a quarter of the keepalive (15 s); a publish whose wake-up
                // were lost would wait that long, past the 5 s publish timeout, and fail.
                config.keepalive = 60
                config.publishTimeout = .seconds(5)
                let tasks = 4
                let rounds = 25
                let burst = 20
                try await withClient(config) { client in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for task in 0..<tasks {
                            group.addTask {
                                var generator = SystemRandomNumberGenerator()
                                for round in 0..<rounds {
                                    for index in 0..<burst {
                                        try client.send("nl/\(task)", payload: Array("\(round).\(index)".utf8))
                                    }
                                    // Returns once the broker acknowledged it, which needs the
                                    // thread to have written it (and the burst before it).
                                    try await client.publish("nl/\(task)", string: "\(round).end", qos: .atLeastOnce)
                                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...3, using: &generator)))
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                for task in 0..<tasks {
                    try await waitUntil { probe.messages(on: "nl/\(task)").count >= rounds * (burst + 1) }
                    let payloads = probe.messages(on: "nl/\(task)").map(\.payloadString)
                    let expected = (0..<rounds).flatMap { round in (0..<burst).map { "\(round).\($0)" } + ["\(round).end"] }
                    #expect(payloads == expected, "task \(task): in order, none lost or repeated")
                }
            }
        }
    }

    @Test("an idle connection pings on time: the thread's idle wake-ups send PINGREQ within the keepalive's margin")
    func idlePings() async throws {
        try await MosquittoBroker.with { broker in
            var config = try configuration(for: broker, clientID: "idle-pinger")
            // libmosquitto's smallest keepalive. A ping is due 5 s after the client's last packet;
            // the thread checks every 1.25 s, so it goes out by 6.25 s (the broker would close the
            // connection at 7.5 s).
            config.keepalive = 5
            try await withClient(config) { client in
                try await Task.sleep(for: .milliseconds(6800))
                let log = try String(contentsOf: broker.logFile, encoding: .utf8)
                #expect(log.contains("Received PINGREQ from idle-pinger"), "no ping within 6.8 s of idling")
                #expect(client.isConnected)
                #expect(client.statistics.reconnects.load(ordering: .relaxed) == 0)
            }
        }
    }
}
