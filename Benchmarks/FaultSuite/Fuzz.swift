import BridgeCore
import Foundation
import Mosquitto
import Simulators
import TestSupport

/// What the observer of the fuzz run saw: replies on the response topic by correlation (the
/// command's index) and results on `<device>/result` in arrival order.
struct FuzzObservation: Sendable {
    var replies: [Int: [[UInt8]]] = [:]
    /// Results on `api2mqtt/+/result` since the last reply (so: of the command being answered,
    /// which the bridge publishes before the reply, on the same connection).
    var pendingResults: [(topic: String, payload: [UInt8])] = []
    /// `pendingResults` of each command, taken when its reply arrives.
    var results: [Int: [(topic: String, payload: [UInt8])]] = [:]
    var uncorrelated = 0
}

/// Per-class tally.
struct ClassTally {
    var sent = 0
    var entityForm = 0
    var deviceForm = 0
    var oneErrorReply = 0
    var resultTopicAsDocumented = 0
    var transactionEchoed = 0
    var transactionExpected = 0
    var codes: [String: Int] = [:]
    var failures: [String] = []
}

/// `fuzz [N] [--seed S]`: N invalid commands (TestSupport's `CommandFuzz.invalidCase`, classes
/// drawn evenly) to the known device `han`, one at a time, each with an MQTT 5 response topic and
/// its index as correlation data. Checks for each: exactly one reply, an error; a result on
/// `<device>/result` exactly when the device level is an id (README); the transaction echoed
/// where the payload is readable JSON; and no HTTP call reaching the simulator.
func fuzz(api2mqtt: String, count: Int, seed: UInt64) async throws -> Bool {
    let broker = try await MosquittoBroker.start(.init(extraConfiguration: ["set_tcp_nodelay true"], logsEveryPacket: false))
    let simulator = CozifyHANSimulator(configuration: .init(telegramInterval: .seconds(1)))
    let simulatorPort = try await simulator.start()
    let bridge = try BridgeUnderTest.start(api2mqtt: api2mqtt, brokerPort: broker.port, simulatorPort: simulatorPort)
    let classes = CommandFuzz.InvalidClass.allCases
    let targets = CommandFuzz.hanTargets()

    print("fuzz: \(count) invalid commands (seed \(seed)) to the known device han of the real api2mqtt (\(api2mqtt))")
    print("  classes: \(classes.map(\.rawValue).joined(separator: ", "))")
    print("  forms: <base>/han/<entity>/set (plain or {\"value\": …}) and <base>/han/set ({\"<entity>\": …}), one entity each")
    print("  one at a time, MQTT 5, response topic fuzz/reply with the index as correlation data; private mosquitto on port \(broker.port) (set_tcp_nodelay true)")
    print("  host: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average at start \(ProcessFigures.hostLoad())")

    let observed = Locked(FuzzObservation())
    let online = Locked<Set<String>>([])
    let session = try await Session.open(port: broker.port, clientID: "fault-suite-fuzzer") { message, _ in
        if message.topic == "api2mqtt/bridge/state" || message.topic == "api2mqtt/han/availability" {
            if message.payloadString == "online" { online.withLock { _ = $0.insert(message.topic) } }
            return
        }
        observed.withLock { state in
            if message.topic == "fuzz/reply" {
                guard let data = message.properties.correlationData, let index = Int(String(decoding: data, as: UTF8.self)) else {
                    state.uncorrelated += 1
                    return
                }
                state.replies[index, default: []].append(message.payload)
                if state.results[index] == nil { state.results[index] = state.pendingResults }
                state.pendingResults = []
            } else {
                state.pendingResults.append((message.topic, message.payload))
            }
        }
    }
    var failure: String?
    var tallies: [CommandFuzz.InvalidClass: ClassTally] = [:]
    var missing = 0
    var callsDuring = 0
    var requestsDuring = 0
    var elapsed = 0.0
    var phases = (generate: Duration.zero, publish: Duration.zero, answer: Duration.zero)
    var cpu = 0.0
    var memoryAfter: (rss: Int, anon: Int)?
    var memoryBefore: (rss: Int, anon: Int)?
    do {
        try await session.subscribe(["api2mqtt/bridge/state", "api2mqtt/han/availability", "api2mqtt/+/result", "fuzz/reply"])
        guard await waitFor(.seconds(60), { online.value.count == 2 }) else {
            throw TestSupportError("the bridge or its HAN source did not come online within 60 s")
        }
        var random = FuzzRandom(state: seed)
        let requestsBefore = simulator.requests.all
        let callsBefore = requestsBefore.filter(isCommandCall).count
        memoryBefore = ProcessFigures.memory(bridge.process.pid)
        let cpuBefore = ProcessFigures.cpuSeconds(bridge.process.pid) ?? .nan
        let start = ContinuousClock.now
        for index in 0..<count {
            guard let invalidClass = classes.randomElement(using: &random) else { break }
            let generating = ContinuousClock.now
            let command = CommandFuzz.invalidCase(invalidClass, targets: targets, &random)
            let publishing = ContinuousClock.now
            phases.generate += publishing - generating
            var tally = tallies[invalidClass] ?? ClassTally()
            tally.sent += 1
            if command.topic.split(separator: "/", omittingEmptySubsequences: false).count == 3 { tally.deviceForm += 1 } else { tally.entityForm += 1 }
            try await session.client.publish(
                command.topic, payload: command.payload, qos: .atLeastOnce,
                properties: PublishProperties(responseTopic: "fuzz/reply", correlationData: Array(String(index).utf8)))
            let waiting = ContinuousClock.now
            phases.publish += waiting - publishing
            defer { phases.answer += ContinuousClock.now - waiting }
            let answered = await waitFor(.seconds(30), every: .microseconds(500)) { observed.withLock { $0.replies[index] != nil } }
            let shown = "#\(index) \(command.topic.prefix(50).debugDescription) \(String(decoding: command.payload.prefix(50), as: UTF8.self).debugDescription) (\(command.payload.count) bytes)"
            guard answered, let reply = observed.withLock({ $0.replies[index]?.first }) else {
                missing += 1
                tally.failures.append("no reply within 30 s: \(shown)")
                tallies[invalidClass] = tally
                guard bridge.process.isRunning else { throw TestSupportError("the bridge exited (status \(bridge.process.terminationStatus ?? -1)) at \(shown)") }
                continue
            }
            let result = try? JSONValue.parse(reply)
            let code = result?["error_code"]?.stringValue ?? "none"
            tally.codes[code, default: 0] += 1
            if result?["status"]?.stringValue == "error" {
                tally.oneErrorReply += 1
            } else {
                tally.failures.append("not an error: \(shown) → \(String(decoding: reply.prefix(200), as: UTF8.self))")
            }
            let results = observed.withLock { $0.results[index] ?? [] }
            switch CommandFuzz.answer(of: command) {
            case .resultTopic(let device):
                if results.count == 1, results.first?.topic == "api2mqtt/\(device)/result", results.first?.payload == reply {
                    tally.resultTopicAsDocumented += 1
                } else {
                    tally.failures.append("expected one result on api2mqtt/\(device)/result, got \(results.map(\.topic)): \(shown)")
                }
            case .responseTopicOnly:
                if results.isEmpty {
                    tally.resultTopicAsDocumented += 1
                } else {
                    tally.failures.append("expected no result topic, got \(results.map { $0.topic.prefix(60) }): \(shown)")
                }
            }
            if let transaction = command.transaction {
                tally.transactionExpected += 1
                if String(decoding: reply, as: UTF8.self).contains(#""transaction":\#(transaction)}"#) {
                    tally.transactionEchoed += 1
                } else {
                    tally.failures.append("transaction \(transaction) not echoed: \(shown) → \(String(decoding: reply.prefix(200), as: UTF8.self))")
                }
            }
            tallies[invalidClass] = tally
            if (index + 1) % 1000 == 0 { print("  \(index + 1) sent, \(format(seconds(ContinuousClock.now - start), 1)) s") }
        }
        elapsed = seconds(ContinuousClock.now - start)
        cpu = (ProcessFigures.cpuSeconds(bridge.process.pid) ?? .nan) - cpuBefore
        memoryAfter = ProcessFigures.memory(bridge.process.pid)
        // Late duplicates: wait a moment for anything still on its way.
        try await Task.sleep(for: .seconds(2))
        let requestsAfter = simulator.requests.all
        callsDuring = requestsAfter.filter(isCommandCall).count - callsBefore
        requestsDuring = requestsAfter.count - requestsBefore.count
    } catch {
        failure = "\(error)"
    }
    let observation = observed.value
    let duplicates = observation.replies.values.filter { $0.count > 1 }.count

    print("")
    print("results per class")
    let header = ["class", "sent", "entity/device form", "1 error reply", "result topic ok", "transaction echoed", "error codes"]
    print("  " + header.enumerated().map { $0.offset == 6 ? $0.element : $0.element.padding(toLength: [22, 7, 19, 14, 16, 19][$0.offset], withPad: " ", startingAt: 0) }.joined())
    var total = ClassTally()
    for invalidClass in classes {
        let tally = tallies[invalidClass] ?? ClassTally()
        total.sent += tally.sent
        total.entityForm += tally.entityForm
        total.deviceForm += tally.deviceForm
        total.oneErrorReply += tally.oneErrorReply
        total.resultTopicAsDocumented += tally.resultTopicAsDocumented
        total.transactionEchoed += tally.transactionEchoed
        total.transactionExpected += tally.transactionExpected
        total.failures += tally.failures
        for (code, n) in tally.codes { total.codes[code, default: 0] += n }
        let codes = tally.codes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let cells = [
            invalidClass.rawValue, "\(tally.sent)", "\(tally.entityForm)/\(tally.deviceForm)", "\(tally.oneErrorReply)",
            "\(tally.resultTopicAsDocumented)", "\(tally.transactionEchoed)/\(tally.transactionExpected)", codes,
        ]
        print("  " + cells.enumerated().map { $0.offset == 6 ? $0.element : $0.element.padding(toLength: [22, 7, 19, 14, 16, 19][$0.offset], withPad: " ", startingAt: 0) }.joined())
    }
    let totalCodes = total.codes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    let cells = [
        "total", "\(total.sent)", "\(total.entityForm)/\(total.deviceForm)", "\(total.oneErrorReply)", "\(total.resultTopicAsDocumented)",
        "\(total.transactionEchoed)/\(total.transactionExpected)", totalCodes,
    ]
    print("  " + cells.enumerated().map { $0.offset == 6 ? $0.element : $0.element.padding(toLength: [22, 7, 19, 14, 16, 19][$0.offset], withPad: " ", startingAt: 0) }.joined())
    print("")
    row("commands without a reply within 30 s", "\(missing)")
    row("commands with more than one reply", "\(duplicates)")
    row("replies without a known correlation", "\(observation.uncorrelated)")
    row("HTTP calls of commands reaching the simulator", "\(callsDuring) (POST, or GET with X-Scan-Start)")
    row("all HTTP requests during the run (the source's polls)", "\(requestsDuring)")
    row("time for \(total.sent) commands (one at a time)", "\(format(elapsed, 1)) s (\(format(Double(total.sent) / max(elapsed, 0.001), 0)) commands/s)")
    row("  generating / publishing (PUBACK) / until the reply", "\(format(seconds(phases.generate), 1)) / \(format(seconds(phases.publish), 1)) / \(format(seconds(phases.answer), 1)) s")
    row("bridge CPU during the run", "\(format(cpu, 2)) s (\(format(1000 * cpu / Double(max(total.sent, 1)), 3)) ms per command)")
    row("bridge VmRSS / RssAnon before → after", "\(memoryBefore?.rss ?? 0) / \(memoryBefore?.anon ?? 0) → \(memoryAfter?.rss ?? 0) / \(memoryAfter?.anon ?? 0) kB")
    bridge.printMetrics(["messages_received_total", "incoming_dropped_total", "offline_dropped_total"])
    let bridgeRunning = bridge.process.isRunning
    row("bridge crashes", bridgeRunning ? "0" : "1 (exit status \(bridge.process.terminationStatus ?? -1))")
    row("bridge log lines at warning or above", "\(bridge.warnings().count)")
    if !total.failures.isEmpty {
        print("failures (\(total.failures.count), first 20):")
        for line in total.failures.prefix(20) { print("  \(line)") }
    }
    let exitStatus = bridge.stop()
    row("bridge exit status at SIGTERM", "\(exitStatus.map { "\($0)" } ?? "none")")
    if let failure {
        print("run failed: \(failure)")
        bridge.printTail()
    }
    await session.close()
    await simulator.stop()
    broker.shutDown()
    let ok = failure == nil && total.failures.isEmpty && missing == 0 && duplicates == 0 && callsDuring == 0 && bridgeRunning && exitStatus == 0
    if ok && ProcessInfo.processInfo.environment["KEEP"] == nil { bridge.removeFiles() } else { print("bridge files kept in \(bridge.directory.path)") }
    return ok
}
