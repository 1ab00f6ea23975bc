import BridgeCore
import Foundation
import Mosquitto
import Simulators
import Synchronization
import TestSupport

/// What the observer of one broker epoch saw.
struct RestartObservation: Sendable {
    /// Results by transaction: arrival instants (a command answered twice has two).
    var results: [String: [ContinuousClock.Instant]] = [:]
    var resultsWithoutTransaction = 0
    var okResults = 0
    var errorResults: [String: Int] = [:]
    /// `bridge/state` = `online` per epoch: arrival and whether the broker sent it from its
    /// retained store (the observer subscribed after the bridge's birth message).
    var online: [Int: (instant: ContinuousClock.Instant, retained: Bool)] = [:]
    var epoch = 0
}

/// One command sent by the publisher.
struct SentCommand: Sendable {
    var index: Int
    var transaction: String
    var sent: ContinuousClock.Instant
    /// nil while waiting for the broker's PUBACK; then true, or false with `error`.
    var acknowledged: Bool?
    /// When the broker's PUBACK arrived.
    var acknowledgedAt: ContinuousClock.Instant?
    var error: String?
}

/// `broker-restarts [N]`: a publisher sends valid `fixed_price` commands (distinct transactions,
/// each with its own value) at `rate` per second while mosquitto is killed (SIGKILL by PID) and
/// started again on the same port N times, with `dwell` seconds of traffic between restarts.
func brokerRestarts(api2mqtt: String, restarts: Int, rate: Double, seed: UInt64) async throws -> Bool {
    // Every packet logged: the broker's own account of which commands arrived before the
    // bridge had subscribed again (a few lines per command: negligible at this rate).
    let broker = try await MosquittoBroker.start(.init(extraConfiguration: ["set_tcp_nodelay true"], logsEveryPacket: true))
    let simulator = CozifyHANSimulator(configuration: .init(telegramInterval: .seconds(1)))
    let simulatorPort = try await simulator.start()
    let bridge = try BridgeUnderTest.start(api2mqtt: api2mqtt, brokerPort: broker.port, simulatorPort: simulatorPort)
    var random = FuzzRandom(state: seed)

    print("broker-restarts: \(restarts) restarts of mosquitto (SIGKILL by PID, started again on port \(broker.port), persistence off)")
    print("  while a publisher sends valid fixed_price commands at \(format(rate, 0))/s (QoS 1, distinct transaction and value each)")
    print("  to the real api2mqtt (\(api2mqtt)) with one Cozify HAN source (in-process simulator, 1 telegram/s)")
    print("  host: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average at start \(ProcessFigures.hostLoad())")

    let observed = Locked(RestartObservation())
    @Sendable func observe(_ message: MQTTMessage, _ instant: ContinuousClock.Instant) {
        observed.withLock { state in
            if message.topic == "api2mqtt/bridge/state" {
                if message.payloadString == "online", state.online[state.epoch] == nil {
                    state.online[state.epoch] = (instant, message.retain)
                }
                return
            }
            guard message.topic == "api2mqtt/han/result" else { return }
            let result = try? JSONValue.parse(message.payload)
            if result?["status"]?.stringValue == "ok" {
                state.okResults += 1
            } else {
                state.errorResults[result?["error_code"]?.stringValue ?? "?", default: 0] += 1
            }
            if let transaction = result?["transaction"]?.stringValue {
                state.results[transaction, default: []].append(instant)
            } else {
                state.resultsWithoutTransaction += 1
            }
        }
    }
    let observerTopics = ["api2mqtt/bridge/state", "api2mqtt/han/result", "api2mqtt/han/availability"]
    var observer = try await Session.open(port: broker.port, clientID: "fault-suite-observer-0", onMessage: observe)
    try await observer.subscribe(observerTopics)

    var failure: String?
    var reconnects: [(seconds: Double, observerLate: Bool)] = []
    /// Per restart: when the new broker listened, and when the bridge's `online` arrived.
    var windows: [(kill: ContinuousClock.Instant, up: ContinuousClock.Instant, online: ContinuousClock.Instant)] = []
    let sent = Locked<[SentCommand]>([])
    var publisher: Session?
    let stopPublishing = Locked(false)
    var publishing: Task<Void, Never>?

    do {
        guard await waitFor(.seconds(60), { observed.withLock { $0.online[0] != nil } }) else {
            throw TestSupportError("the bridge did not come online within 60 s")
        }
        // The source must be up before its commands can succeed.
        let availability = Locked<String?>(nil)
        let probe = try await Session.open(port: broker.port, clientID: "fault-suite-probe") { message, _ in
            if message.topic == "api2mqtt/han/availability" { availability.withLock { $0 = message.payloadString } }
        }
        try await probe.subscribe(["api2mqtt/han/availability"])
        let sourceOnline = await waitFor(.seconds(60)) { availability.withLock { $0 == "online" } }
        await probe.close()
        guard sourceOnline else { throw TestSupportError("the HAN source did not come online within 60 s") }

        let session = try await Session.open(port: broker.port, clientID: "fault-suite-publisher", publishTimeout: .seconds(120))
        publisher = session
        publishing = Task {
            await withDiscardingTaskGroup { group in
                let interval = Duration.seconds(1) / rate
                let start = ContinuousClock.now
                var index = 0
                while !stopPublishing.value {
                    let due = start + interval * index
                    if ContinuousClock.now < due { try? await Task.sleep(until: due, clock: .continuous) }
                    let transaction = "c\(index)"
                    // The value names the command in the simulator's request log (index / 1000).
                    let value = Double(index % 10_000) / 1000
                    let payload = #"{"value": \#(format(value, 3)), "transaction": "\#(transaction)"}"#
                    let position = sent.withLock { sent in
                        sent.append(SentCommand(index: index, transaction: transaction, sent: .now))
                        return sent.count - 1
                    }
                    group.addTask {
                        do {
                            try await session.client.publish("api2mqtt/han/fixed_price/set", string: payload, qos: .atLeastOnce)
                            let now = ContinuousClock.now
                            sent.withLock {
                                $0[position].acknowledged = true
                                $0[position].acknowledgedAt = now
                            }
                        } catch {
                            sent.withLock {
                                $0[position].acknowledged = false
                                $0[position].error = "\(error)"
                            }
                        }
                    }
                    index += 1
                }
            }
        }

        for restart in 1...restarts {
            try await Task.sleep(for: .milliseconds(Int(Double.random(in: 1000...2000, using: &random))))
            guard bridge.process.isRunning else {
                throw TestSupportError("the bridge exited (status \(bridge.process.terminationStatus ?? -1)) before restart \(restart)")
            }
            // Down for as long as a start takes: the old observer is closed only once the new one
            // is subscribed, so that its clean-up does not lengthen the outage.
            let kill = ContinuousClock.now
            broker.kill()
            observed.withLock { $0.epoch = restart }
            try await broker.restart()
            let up = ContinuousClock.now
            let previous = observer
            observer = try await Session.open(port: broker.port, clientID: "fault-suite-observer-\(restart)", onMessage: observe)
            try await observer.subscribe(observerTopics)
            let subscribed = ContinuousClock.now
            await previous.close()
            guard await waitFor(.seconds(120), { observed.withLock { $0.online[restart] != nil } }) else {
                throw TestSupportError("the bridge was not online again within 120 s of restart \(restart)")
            }
            guard let online = observed.withLock({ $0.online[restart] }) else { continue }
            windows.append((kill, up, online.instant))
            // A retained `online` means the bridge's birth came before the observer subscribed:
            // the reconnect took at most until the subscription.
            reconnects.append(
                online.retained
                    ? (seconds: seconds(subscribed - up), observerLate: true) : (seconds: seconds(online.instant - up), observerLate: false))
            if restart % 10 == 0 {
                let count = sent.withLock { $0.count }
                print("  restart \(restart)/\(restarts): \(count) commands sent so far, last reconnect \(format(reconnects.last?.seconds ?? .nan, 3)) s")
            }
        }
        try await Task.sleep(for: .seconds(1))
    } catch {
        failure = "\(error)"
    }

    // Stop sending, then wait for every publish to be acknowledged (or fail) and every result.
    stopPublishing.withLock { $0 = true }
    await publishing?.value
    let commands = sent.withLock { $0 }
    _ = await waitFor(.seconds(150)) { sent.withLock { $0.allSatisfy { $0.acknowledged != nil } } }
    var lastCount = -1
    var quietSince = ContinuousClock.now
    while ContinuousClock.now - quietSince < .seconds(10) {
        let (answered, total) = observed.withLock { ($0.results.count, $0.results.values.reduce(0) { $0 + $1.count }) }
        if answered == commands.count { break }
        if total != lastCount {
            lastCount = total
            quietSince = .now
        }
        try? await Task.sleep(for: .milliseconds(100))
    }
    let final = sent.withLock { $0 }
    let observation = observed.withLock { $0 }
    let bridgeRunning = bridge.process.isRunning
    let bridgeStatus = bridge.process.terminationStatus

    print("")
    print("results")
    row("bridge crashes (exited during the run)", bridgeRunning ? "0" : "1 (exit status \(bridgeStatus ?? -1))")
    row("broker restarts done", "\(reconnects.count) of \(restarts)")
    // Which commands reached the source: each value (index / 1000) POSTed to /configuration.
    var calls: [Int: Int] = [:]
    for request in simulator.requests.requests(method: "POST", path: "/configuration") {
        guard let p = (try? JSONValue.parse(request.body))?["p"]?.numberValue else { continue }
        calls[Int((p * 1000).rounded()), default: 0] += 1
    }
    let ambiguous = final.count > 10_000
    var once = 0
    var twice: [SentCommand] = []
    var never: [SentCommand] = []
    for command in final {
        switch observation.results[command.transaction]?.count ?? 0 {
        case 0: never.append(command)
        case 1: once += 1
        default: twice.append(command)
        }
    }
    row("commands sent", "\(final.count)")
    row("  acknowledged by the broker (PUBACK to the publisher)", "\(final.filter { $0.acknowledged == true }.count)")
    row("  publish failed at the publisher", "\(final.filter { $0.acknowledged == false }.count)")
    row("answered exactly once", "\(once)")
    row("answered twice or more", "\(twice.count)")
    row("never answered", "\(never.count)")
    row("results ok / error", "\(observation.okResults) / \(observation.errorResults.values.reduce(0, +)) \(observation.errorResults.sorted { $0.key < $1.key })")
    row("results without a transaction", "\(observation.resultsWithoutTransaction)")
    if ambiguous { print("  (more than 10,000 commands: values repeat, the per-command call counts below are approximate)") }
    func callCount(_ command: SentCommand) -> Int { calls[command.index % 10_000] ?? 0 }
    let twiceCalledTwice = twice.filter { callCount($0) >= 2 }.count
    /// Two results of one call on either side of a restart: the bridge's QoS 1 result was
    /// forwarded, but the broker died before its PUBACK reached the bridge, which resent it.
    func resentAcrossRestart(_ command: SentCommand) -> Bool {
        let arrivals = (observation.results[command.transaction] ?? []).sorted()
        guard let first = arrivals.first, let last = arrivals.last else { return false }
        return windows.contains { first < $0.kill && last > $0.up }
    }
    let resent = twice.filter { callCount($0) < 2 && resentAcrossRestart($0) }
    let doubleAnswers = twice.filter { callCount($0) < 2 && !resentAcrossRestart($0) }
    row("  answered twice, the call made twice (delivered twice)", "\(twiceCalledTwice)")
    row("  answered twice, one call, results across a restart (d)", "\(resent.count)")
    row("  answered twice, one call, otherwise (double answer)", "\(doubleAnswers.count)")
    // A restarted broker (persistence off) knows no subscription until the bridge has
    // reconnected: a command it accepts before then has no subscriber and is dropped. The
    // bridge subscribes right after its birth message (`online`), on the same connection.
    let margin = Duration.milliseconds(100)
    func window(of command: SentCommand) -> Int? {
        guard let acknowledged = command.acknowledgedAt else { return nil }
        return windows.firstIndex { acknowledged >= $0.up && acknowledged <= $0.online + margin }
    }
    /// Acknowledged at most 100 ms before a kill: it may have been in the broker when it died.
    func atKill(_ command: SentCommand) -> Bool {
        guard let acknowledged = command.acknowledgedAt else { return false }
        return windows.contains { acknowledged <= $0.kill && acknowledged >= $0.kill - margin }
    }
    let neverCalled = never.filter { callCount($0) == 0 }
    let beforeSubscription = neverCalled.filter { window(of: $0) != nil }
    let inBrokerAtKill = neverCalled.filter { window(of: $0) == nil && atKill($0) }
    let unexplained = never.filter { callCount($0) > 0 || (window(of: $0) == nil && !atKill($0)) }
    row("  never answered, no call, no subscriber yet (a)", "\(beforeSubscription.count)")
    row("  never answered, no call, in the broker at a kill (b)", "\(inBrokerAtKill.count)")
    row("  never answered, although the bridge made the call", "\(never.filter { callCount($0) > 0 }.count)")
    row("  never answered, unexplained", "\(unexplained.count)")
    let brokerCount = commandsBeforeSubscription(logFile: broker.logFile)
    row("broker log: commands before the bridge's SUBSCRIBE (c)", brokerCount.map { "\($0)" } ?? "log unreadable")
    row("broker log: results the bridge resent (DUP flag) (e)", brokerLogCount(logFile: broker.logFile, "Received PUBLISH from fault-suite-bridge (d1").map { "\($0)" } ?? "log unreadable")
    print("  (a) PUBACK between the restarted broker listening and the bridge's `online` + 100 ms: a broker")
    print("      without persistence knows no subscription until the bridge has reconnected and subscribed")
    print("      (right after its birth message), so it drops what it accepts before then")
    print("  (b) PUBACK at most 100 ms before a SIGKILL: accepted, not yet forwarded")
    print("  (c) mosquitto's own log (every packet): command PUBLISHes each restarted broker received from")
    print("      the publisher before the bridge's SUBSCRIBE, summed over the restarts (resends counted)")
    print("  (d) both results of the one call arrived on either side of a restart: QoS 1 at work, the bridge")
    print("      resent a result whose PUBACK the killed broker never sent (see (e))")
    print("  (e) PUBLISHes on api2mqtt/han/result the brokers received from the bridge with the DUP flag")
    let afterOnline = final.filter { command in
        guard let acknowledged = command.acknowledgedAt else { return false }
        return windows.allSatisfy { (acknowledged < $0.kill - margin || acknowledged > $0.kill) && (acknowledged < $0.up || acknowledged > $0.online + margin) }
    }
    row("commands accepted while the bridge was subscribed", "\(afterOnline.count)")
    row("  of which answered exactly once", "\(afterOnline.filter { observation.results[$0.transaction]?.count == 1 }.count)")
    let extraCalls = final.filter { callCount($0) > 1 }.count
    row("commands whose call the source saw more than once", "\(extraCalls)")
    for command in (doubleAnswers + resent + unexplained).prefix(10) {
        var timing = ""
        if let acknowledged = command.acknowledgedAt,
            let nearest = windows.min(by: { abs(seconds(acknowledged - $0.kill)) < abs(seconds(acknowledged - $1.kill)) })
        {
            timing = String(
                format: ", PUBACK at kill%+.3f s, up%+.3f s, online%+.3f s", seconds(acknowledged - nearest.kill),
                seconds(acknowledged - nearest.up), seconds(acknowledged - nearest.online))
        }
        print("    \(command.transaction): results \(observation.results[command.transaction]?.count ?? 0), calls \(callCount(command)), PUBACK \(command.acknowledged.map { "\($0)" } ?? "none")\(command.error.map { " (\($0))" } ?? "")\(timing)")
    }
    let times = reconnects.map { $0.seconds }
    let late = reconnects.filter { $0.observerLate }.count
    row("reconnect (broker listening → bridge online) median", "\(format(median(times), 3)) s")
    row("reconnect p90 / max", "\(format(percentile(times, 0.9), 3)) s / \(format(times.max() ?? .nan, 3)) s")
    row("reconnect min", "\(format(times.min() ?? .nan, 3)) s")
    row("restarts where the observer subscribed after the birth", "\(late) (their time is an upper bound)")
    bridge.printMetrics(["reconnects_total", "messages_received_total", "offline_dropped_total", "incoming_dropped_total", "qos0_discarded_total"])
    let warnings = bridge.warnings()
    row("bridge log lines at warning or above", "\(warnings.count)")
    var kinds: [String: Int] = [:]
    for line in warnings {
        let level = line.split(separator: " ", maxSplits: 2).dropFirst().first ?? ""
        kinds["\(level): \(BridgeUnderTest.message(of: line).prefix(100))", default: 0] += 1
    }
    for (message, count) in kinds.sorted(by: { $0.value > $1.value }).prefix(8) { print("    \(count)× \(message)") }
    row("host load average at end", ProcessFigures.hostLoad())

    let exitStatus = bridge.stop()
    row("bridge exit status at SIGTERM", "\(exitStatus.map { "\($0)" } ?? "none")")
    if let failure {
        print("run failed: \(failure)")
        bridge.printTail()
    }
    await observer.close()
    await publisher?.close()
    await simulator.stop()
    broker.shutDown()
    let ok = failure == nil && bridgeRunning && doubleAnswers.isEmpty && unexplained.isEmpty && exitStatus == 0
    if ok && ProcessInfo.processInfo.environment["KEEP"] == nil { bridge.removeFiles() } else { print("bridge files kept in \(bridge.directory.path)") }
    return ok
}

/// From mosquitto's log (`log_type all`, appended across restarts): how many command PUBLISHes
/// from the publisher each restarted broker received before the bridge's SUBSCRIBE to the
/// command filters, summed.
func commandsBeforeSubscription(logFile: URL) -> Int? {
    guard let log = try? String(contentsOf: logFile, encoding: .utf8) else { return nil }
    var total = 0
    var epoch = -1
    var subscribed = false
    for line in log.split(separator: "\n") {
        if line.contains(" starting") && line.contains("mosquitto version") {
            epoch += 1
            subscribed = false
        } else if line.contains("api2mqtt/+/+/set (QoS") {
            // The SUBSCRIBE that names the command filters (mosquitto logs each filter on a
            // line of its own after "Received SUBSCRIBE from …"; only the bridge subscribes to it).
            subscribed = true
        } else if epoch > 0, !subscribed, line.contains("Received PUBLISH from fault-suite-publisher"),
            line.contains("api2mqtt/han/fixed_price/set")
        {
            total += 1
        }
    }
    return total
}

/// Lines of mosquitto's log containing `text` and the result topic.
func brokerLogCount(logFile: URL, _ text: String) -> Int? {
    guard let log = try? String(contentsOf: logFile, encoding: .utf8) else { return nil }
    return log.split(separator: "\n").filter { $0.contains(text) && $0.contains("api2mqtt/han/result") }.count
}
