import BridgeCore

/// A latch a fake call can wait on; it ignores task cancellation, like a call stuck in a
/// library that does not check for it.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        guard !isOpen else { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}

/// The order in which calls started and ended, across executors.
actor EventLog {
    private(set) var events: [String] = []

    func record(_ event: String) { events.append(event) }
}

/// A `CommandExecutor` that records every call and behaves as the test says.
actor FakeCommandExecutor: CommandExecutor {
    enum Behaviour: Sendable {
        /// Answers at once with this HTTP status.
        case succeed(Int?)
        /// Throws this failure.
        case fail(CommandFailure)
        /// Never answers until cancelled (then throws `call_failed`).
        case hang
        /// Waits for the gate, ignoring cancellation, then answers 200.
        case hold(Gate)
    }

    struct Action: Sendable, Hashable {
        var name: String
        var value: JSONValue
        var childKey: JSONValue?
    }

    let name: String
    let log: EventLog?
    private var behaviour: Behaviour
    private var available: Bool
    private(set) var calls: [RenderedCall] = []
    private(set) var actions: [Action] = []
    private(set) var refreshes: [Set<String>] = []

    init(name: String = "han", behaviour: Behaviour = .succeed(200), available: Bool = true, log: EventLog? = nil) {
        self.name = name
        self.behaviour = behaviour
        self.available = available
        self.log = log
    }

    func setBehaviour(_ behaviour: Behaviour) { self.behaviour = behaviour }

    func setAvailable(_ available: Bool) { self.available = available }

    var isAvailable: Bool { available }

    /// Every call and action, counted together.
    var callCount: Int { calls.count + actions.count }

    func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? {
        calls.append(call)
        return try await behave(label: call.body?.jsonString ?? call.path)
    }

    func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        actions.append(Action(name: action, value: value, childKey: childKey))
        return try await behave(label: action)
    }

    func refresh(endpoints: Set<String>) async {
        refreshes.append(endpoints)
    }

    private func behave(label: String) async throws(CommandFailure) -> Int? {
        await log?.record("start \(name) \(label)")
        let status: Int?
        switch behaviour {
        case .succeed(let code):
            status = code
        case .fail(let failure):
            await log?.record("end \(name) \(label)")
            throw failure
        case .hang:
            try? await Task.sleep(for: .seconds(3600))
            await log?.record("end \(name) \(label)")
            throw CommandFailure(.callFailed, "cancelled")
        case .hold(let gate):
            await gate.wait()
            status = 200
        }
        await log?.record("end \(name) \(label)")
        return status
    }
}
