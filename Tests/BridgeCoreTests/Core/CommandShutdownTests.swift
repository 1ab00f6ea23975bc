import BridgeCore
import Synchronization
import TestSupport
import Testing

/// The bounded shutdown rule (`CommandRouter.shutDown(inFlightDeadline:)`): commands not started
/// are answered `shutting_down`, a call in flight gets the deadline (measured on a manual clock,
/// so no verdict depends on the machine's speed), an overdue one one `timeout` result, and
/// nothing is started or answered twice afterwards.
@Suite("Command router: shutdown")
struct CommandShutdownTests {
    /// Waits for something the router does on its own tasks; the bound only guards against a hang.
    private func eventually(_ condition: () async -> Bool) async -> Bool {
        await CoreTestSupport.spin(upTo: .seconds(60), until: condition)
    }

    /// A harness whose `han` calls wait for `gate`, on a manual clock.
    private func harness(gate: Gate, clock: ManualClock) async throws -> RouterHarness {
        try await RouterHarness(han: FakeCommandExecutor(behaviour: .hold(gate)), clock: clock)
    }

    /// Sends `count` fuse commands to `han`, transactions `t1`…, and waits until the first call runs.
    private func sendBacklog(_ harness: RouterHarness, count: Int) async {
        for index in 1...count {
            await harness.send("api2mqtt/han/fuse/set", #"{"value": \#(10 + index), "transaction": "t\#(index)"}"#)
        }
        #expect(await eventually { await harness.han.callCount == 1 }, "the first command never started")
    }

    /// Every result of `device`, by transaction; fails on a transaction answered twice.
    private func resultsByTransaction(_ harness: RouterHarness, _ device: String = "han") -> [String: JSONValue] {
        var byTransaction: [String: JSONValue] = [:]
        for result in harness.results(device) {
            let transaction = result["transaction"]?.stringValue ?? "-"
            #expect(byTransaction[transaction] == nil, "transaction \(transaction) was answered twice")
            byTransaction[transaction] = result
        }
        return byTransaction
    }

    @Test("the backlog is answered shutting_down at once, without a call; the call in flight finishes with its real result")
    func backlogAnsweredShuttingDown() async throws {
        let gate = Gate()
        let clock = ManualClock()
        let harness = try await harness(gate: gate, clock: clock)
        await sendBacklog(harness, count: 5)

        let stopping = Task { await harness.router.shutDown(inFlightDeadline: .seconds(2)) }
        // The four not started are answered before the wait for the one in flight begins.
        #expect(await eventually { harness.results("han").count == 4 })
        let early = resultsByTransaction(harness)
        for index in 2...5 {
            #expect(early["t\(index)"]?["error_code"] == "shutting_down")
            #expect(early["t\(index)"]?["status"] == "error")
        }
        #expect(early["t1"] == nil, "the command in flight was answered before it ended")

        // The call ends within the deadline (no time has passed on the clock): its real result.
        await gate.open()
        await stopping.value
        let results = resultsByTransaction(harness)
        #expect(results.count == 5)
        #expect(results["t1"] == ["entity": "fuse", "status": "ok", "transaction": "t1", "http_status": 200])
        #expect(await harness.han.callCount == 1, "a command of the backlog was sent")
        let counts = await harness.router.counts
        #expect(counts.received == 5 && counts.ok == 1 && counts.shuttingDown == 4 && counts.pending == 0)
    }

    @Test("a call in flight that ends just before the deadline gets its real result, once")
    func inFlightWithinDeadline() async throws {
        let gate = Gate()
        let clock = ManualClock()
        let harness = try await harness(gate: gate, clock: clock)
        await sendBacklog(harness, count: 1)
        // The command's own timeout sleeps on the clock; the shutdown deadline is the second sleeper.
        #expect(await eventually { clock.sleeperCount == 1 })
        let stopping = Task { await harness.router.shutDown(inFlightDeadline: .seconds(2)) }
        #expect(await eventually { clock.sleeperCount == 2 })
        clock.advance(by: .milliseconds(1_999))
        #expect(harness.results("han").isEmpty, "answered before the deadline although the call had not ended")

        await gate.open()
        await stopping.value
        #expect(harness.results("han") == [["entity": "fuse", "status": "ok", "transaction": "t1", "http_status": 200]])
        clock.advance(by: .seconds(60))
        await harness.settle()
        #expect(harness.resultMessages("han").count == 1)
        #expect(await harness.router.counts.lateOutcomes == 0)
    }

    @Test("a call still running at the deadline gets one timeout result; its late outcome is dropped")
    func inFlightPastDeadline() async throws {
        let gate = Gate()
        let clock = ManualClock()
        let harness = try await harness(gate: gate, clock: clock)
        await sendBacklog(harness, count: 2)
        #expect(await eventually { clock.sleeperCount == 1 })
        let stopping = Task { await harness.router.shutDown(inFlightDeadline: .seconds(2)) }
        #expect(await eventually { clock.sleeperCount == 2 })
        clock.advance(by: .seconds(2))
        await stopping.value

        let results = resultsByTransaction(harness)
        #expect(results.count == 2)
        #expect(results["t2"]?["error_code"] == "shutting_down")
        #expect(results["t1"]?["error_code"] == "timeout")
        #expect(results["t1"]?["error"]?.stringValue?.contains("outcome is unknown") == true)

        // The call ends late (it ignored cancellation, like a call stuck in a library).
        await gate.open()
        #expect(await eventually { await harness.router.counts.lateOutcomes == 1 })
        #expect(harness.resultMessages("han").count == 2, "the late outcome was published as a second result")
        #expect(await harness.han.callCount == 1)
    }

    @Test("after shutdown nothing starts: a command that still arrives is answered shutting_down at once")
    func nothingAfterStop() async throws {
        let clock = ManualClock()
        let harness = try await RouterHarness(clock: clock)
        try await harness.router.subscribe()
        #expect(harness.broker.subscriptions.count == 2)
        await harness.router.shutDown(inFlightDeadline: .seconds(2))
        #expect(harness.broker.subscriptions.isEmpty, "the command filters are still subscribed")

        await harness.send("api2mqtt/han/fuse/set", #"{"value": 20, "transaction": "late"}"#, responseTopic: "client/7/reply")
        await harness.send("api2mqtt/han/set", #"{"fuse": 21, "mode": "Eco", "transaction": "late-2"}"#)
        await harness.send("api2mqtt/bridge/restart/set", "PRESS")
        await harness.settle()
        let results = harness.results("han")
        #expect(results.count == 3)
        #expect(results.allSatisfy { $0["error_code"] == "shutting_down" })
        #expect(harness.broker.published(on: "client/7/reply").count == 1)
        // No check runs after the stop, not even whether a device is known: nothing is started.
        #expect(harness.results("bridge").map { $0["error_code"] } == ["shutting_down"])
        #expect(await harness.totalCalls() == 0)
        let counts = await harness.router.counts
        #expect(counts.received == 4 && counts.shuttingDown == 4 && counts.pending == 0)
    }

    @Test("commands on several devices: each device's backlog is answered, each call in flight ends once")
    func severalDevices() async throws {
        let gate = Gate()
        let clock = ManualClock()
        let harness = try await harness(gate: gate, clock: clock)
        let bridgeGate = Gate()
        await harness.router.registerLocal(device: "bridge", commands: ["restart": .press]) { _, _ in await bridgeGate.wait() }
        await sendBacklog(harness, count: 3)
        await harness.send("api2mqtt/bridge/restart/set", #"{"value": "PRESS", "transaction": "b1"}"#)
        await harness.send("api2mqtt/bridge/restart/set", #"{"value": "PRESS", "transaction": "b2"}"#)
        // Two command timeouts on the clock: both calls are in flight.
        #expect(await eventually { clock.sleeperCount == 2 })
        let stopping = Task { await harness.router.shutDown(inFlightDeadline: .seconds(2)) }
        #expect(await eventually { clock.sleeperCount == 3 })
        await gate.open()
        // han's call has ended (its result is out) before the deadline passes; the bridge's has not.
        #expect(await eventually { harness.results("han").count == 3 })
        clock.advance(by: .seconds(2))
        await stopping.value
        await bridgeGate.open()
        #expect(await eventually { await harness.router.counts.lateOutcomes == 1 })

        let han = resultsByTransaction(harness)
        #expect(han["t1"]?["status"] == "ok")
        #expect(han["t2"]?["error_code"] == "shutting_down" && han["t3"]?["error_code"] == "shutting_down")
        let bridge = resultsByTransaction(harness, "bridge")
        #expect(bridge["b1"]?["error_code"] == "timeout")
        #expect(bridge["b2"]?["error_code"] == "shutting_down")
        #expect(harness.allResults.count == 5)
    }
}
