import Foundation
import Mosquitto
import Simulators
import Testing
import TestSupport

/// SIGTERM with commands queued and arriving (issue #17, items 5 and 6), through the real
/// executable, a real mosquitto and the Cozify HAN simulator: every command the bridge received
/// gets exactly one result, `offline` is published, the process exits 0 within 5 s.
///
/// "Received" is the bridge's own count, from the line it logs at exit (`Commands: N received, …`):
/// the broker acknowledges a command to its publisher, not to the bridge.
@Suite("SIGTERM with commands", .serialized)
struct ShutdownEndToEndTests {
    /// The exit line's figures.
    struct ExitCounts: CustomStringConvertible {
        var received, answered, ok, shuttingDown, failed, notPublished, unaddressed, pending: Int

        init?(log: String) {
            let pattern = #/Commands: (\d+) received, (\d+) answered \((\d+) ok, (\d+) shutting_down, (\d+) other errors\), (\d+) not published, (\d+) with nowhere to answer, (\d+) pending/#
            guard let match = log.firstMatch(of: pattern) else { return nil }
            let numbers = [match.1, match.2, match.3, match.4, match.5, match.6, match.7, match.8].compactMap { Int($0) }
            guard numbers.count == 8 else { return nil }
            (received, answered, ok, shuttingDown, failed, notPublished, unaddressed, pending) =
                (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5], numbers[6], numbers[7])
        }

        var description: String {
            "received \(received), answered \(answered) (ok \(ok), shutting_down \(shuttingDown), other \(failed)), "
                + "not published \(notPublished), pending \(pending)"
        }
    }

    /// What the results on `api2mqtt/han/result` say, by transaction.
    struct Tally: CustomStringConvertible {
        var byTransaction: [String: [String]] = [:]
        var withoutTransaction = 0

        init(_ messages: [MQTTMessage]) throws {
            for message in messages {
                let result = try json(message)
                let outcome = (result["status"] as? String == "ok") ? "ok" : (result["error_code"] as? String ?? "?")
                if let transaction = result["transaction"] as? String {
                    byTransaction[transaction, default: []].append(outcome)
                } else {
                    withoutTransaction += 1
                }
            }
        }

        var answeredTwice: [String] { byTransaction.filter { $0.value.count > 1 }.map(\.key).sorted() }
        var results: Int { byTransaction.values.reduce(0) { $0 + $1.count } + withoutTransaction }
        func count(_ outcome: String) -> Int { byTransaction.values.filter { $0.first == outcome }.count }
        var other: [String: Int] {
            var other: [String: Int] = [:]
            for outcomes in byTransaction.values where outcomes.first != "ok" && outcomes.first != "shutting_down" {
                other[outcomes.first ?? "?", default: 0] += 1
            }
            return other
        }

        var description: String {
            "\(results) results: ok \(count("ok")), shutting_down \(count("shutting_down")), other \(other)"
        }
    }

    /// The HAN simulator, a broker, a probe on `api2mqtt/#` and the bridge, with the source online.
    func withBridge(
        _ body: @Sendable (CozifyHANSimulator, MQTTProbe, BridgeProcess) async throws -> Void
    ) async throws {
        let simulator = CozifyHANSimulator(configuration: .init(telegramInterval: .milliseconds(500)))
        let port = try await simulator.start()
        do {
            try await MosquittoBroker.with { broker in
                try await MQTTProbe.with(broker) { probe in
                    try await probe.subscribe("api2mqtt/#")
                    let bridge = try BridgeProcess.start(
                        yaml: bridgeYAML(
                            broker: broker,
                            extra: """
                                sources:
                                  - id: han
                                    type: cozify_han
                                    name: HAN reader
                                    url: http://127.0.0.1:\(port)
                                    poll_interval: 5s
                                """))
                    defer { bridge.stopAndRemoveFiles() }
                    do {
                        _ = try await probe.first(on: "api2mqtt/han/availability", payload: "online", timeout: .seconds(30))
                        try await body(simulator, probe, bridge)
                    } catch {
                        let tail = bridge.log.split(separator: "\n").suffix(40).joined(separator: "\n")
                        Issue.record("bridge log (last 40 lines):\n\(tail)")
                        throw error
                    }
                }
            }
            await simulator.stop()
        } catch {
            await simulator.stop()
            throw error
        }
    }

    /// Sends SIGTERM; returns the exit status and how long the process took to end.
    static func terminate(_ bridge: BridgeProcess) async -> (status: Int32?, took: Duration) {
        let sent = ContinuousClock.now
        bridge.process.signal(SIGTERM)
        let status = await bridge.process.waitForExit(timeout: .seconds(15))
        return (status, ContinuousClock.now - sent)
    }

    /// `api2mqtt/han/fixed_price/set` with transaction `<prefix><index>`.
    static func command(_ probe: MQTTProbe, _ prefix: String, _ index: Int) async throws {
        try await probe.client.publish(
            "api2mqtt/han/fixed_price/set", string: #"{"value": \#(Double(index % 1000) / 1000), "transaction": "\#(prefix)\#(index)"}"#,
            qos: .atLeastOnce)
    }

    @Test("301 commands queued behind a device answering 0.5 s late, then SIGTERM: one result each, offline, exit 0 within 5 s")
    func backlog() async throws {
        try await withBridge { simulator, probe, bridge in
            simulator.faults.activate(.slow(.milliseconds(500)), on: .paths(["/configuration"]))
            for index in 1...301 { try await Self.command(probe, "c", index) }
            // The commands are flowing: the first (0.5 s late, then its state re-read) has its result.
            _ = try await probe.next(on: "api2mqtt/han/result", timeout: .seconds(30))

            let (status, took) = await Self.terminate(bridge)
            #expect(status == 0, "exit status \(String(describing: status))")
            #expect(took < .seconds(5), "took \(took)")
            // The farewell is published after every result: once it is here, all results are.
            _ = try await probe.first(on: "api2mqtt/bridge/state", payload: "offline")

            let tally = try Tally(probe.messages(on: "api2mqtt/han/result"))
            let counts = try #require(ExitCounts(log: bridge.log), "no exit line in the log")
            print("SIGTERM with a backlog of 301 (device 0.5 s late): exit \(String(describing: status)) after \(took); bridge: \(counts); MQTT: \(tally)")
            #expect(tally.answeredTwice.isEmpty, "answered twice: \(tally.answeredTwice)")
            #expect(tally.withoutTransaction == 0)
            // All 301 were acknowledged by the broker before SIGTERM, and queued for the bridge's subscription.
            #expect(counts.received == 301)
            #expect(counts.answered == counts.received && counts.pending == 0 && counts.notPublished == 0)
            #expect(tally.results == counts.answered, "results on MQTT \(tally.results), bridge answered \(counts.answered)")
            #expect(tally.count("ok") == counts.ok && tally.count("shutting_down") == counts.shuttingDown)
            #expect(tally.count("shutting_down") > 250, "\(tally)")
            #expect(tally.other.isEmpty, "\(tally.other)")
        }
    }

    @Test("a call in flight that never answers: one timeout result after the 2 s deadline, the backlog shutting_down, exit 0 within 5 s")
    func hangingCall() async throws {
        try await withBridge { simulator, probe, bridge in
            simulator.faults.activate(.timeout, on: .paths(["/configuration"]))
            for index in 1...3 { try await Self.command(probe, "h", index) }
            // The first command's call has reached the device (which will not answer).
            try await eventually(timeout: .seconds(30)) { simulator.requests.count(method: "POST", path: "/configuration") >= 1 }

            let (status, took) = await Self.terminate(bridge)
            #expect(status == 0, "exit status \(String(describing: status))")
            #expect(took < .seconds(5), "took \(took)")
            _ = try await probe.first(on: "api2mqtt/bridge/state", payload: "offline")
            let tally = try Tally(probe.messages(on: "api2mqtt/han/result"))
            let counts = try #require(ExitCounts(log: bridge.log), "no exit line in the log")
            print("SIGTERM with a call that never answers: exit \(String(describing: status)) after \(took); bridge: \(counts); MQTT: \(tally)")
            #expect(tally.byTransaction == ["h1": ["timeout"], "h2": ["shutting_down"], "h3": ["shutting_down"]])
            #expect(counts.received == 3 && counts.answered == 3 && counts.pending == 0)
            #expect(simulator.requests.count(method: "POST", path: "/configuration") == 1, "a command of the backlog was sent")
        }
    }

    @Test("SIGTERM while 200 commands/s arrive: every command received is answered once, offline, exit 0 within 5 s")
    func underLoad() async throws {
        try await withBridge { _, probe, bridge in
            let sending = Task {
                let start = ContinuousClock.now
                var index = 0
                // Until the bridge has gone (or 10 s, a bound against hangs).
                while bridge.process.isRunning, index < 2_000 {
                    index += 1
                    try? await Self.command(probe, "l", index)
                    try? await Task.sleep(until: start + .milliseconds(5 * index), clock: .continuous)
                }
                return (index, ContinuousClock.now - start)
            }
            // SIGTERM in the middle of the stream, once 150 commands have their result.
            try await eventually(timeout: .seconds(30)) { probe.messages(on: "api2mqtt/han/result").count >= 150 }
            let (status, took) = await Self.terminate(bridge)
            let (sent, sendingFor) = await sending.value
            #expect(status == 0, "exit status \(String(describing: status))")
            #expect(took < .seconds(5), "took \(took)")
            _ = try await probe.first(on: "api2mqtt/bridge/state", payload: "offline")

            let tally = try Tally(probe.messages(on: "api2mqtt/han/result"))
            let counts = try #require(ExitCounts(log: bridge.log), "no exit line in the log")
            let rate = Double(sent) / (Double(sendingFor.components.seconds) + Double(sendingFor.components.attoseconds) / 1e18)
            print(
                "SIGTERM under load: \(sent) commands sent in \(sendingFor) (\(Int(rate))/s); exit \(String(describing: status)) after \(took); "
                    + "bridge: \(counts); MQTT: \(tally)")
            #expect(tally.answeredTwice.isEmpty, "answered twice: \(tally.answeredTwice)")
            #expect(counts.answered == counts.received && counts.pending == 0 && counts.notPublished == 0)
            #expect(tally.results == counts.answered, "results on MQTT \(tally.results), bridge answered \(counts.answered)")
            #expect(counts.received <= sent)
            #expect(tally.other.isEmpty, "\(tally.other)")
        }
    }
}
