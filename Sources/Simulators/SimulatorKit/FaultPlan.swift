import Synchronization

/// The faults and quirks a simulator shows right now; tests switch them at run time.
///
/// A `FaultPlan` is thread-safe and shared by reference: the simulator reads it on every request and
/// every stream message, a test changes it between (or during) requests.
///
/// ```swift
/// simulator.faults.activate(.httpError(500), on: .paths(["/meter"]))
/// simulator.faults.enable(.energyGlitch, times: 1)   // the next telegram only
/// simulator.faults.dropStreams()                     // close open SSE/WS streams now
/// simulator.faults.clear()
/// ```
public final class FaultPlan: Sendable {
    /// How long a quirk stays on.
    public enum QuirkBudget: Hashable, Sendable {
        /// Until ``FaultPlan/disable(_:)`` or ``FaultPlan/clear()``.
        case always
        /// For this many more uses (each ``FaultPlan/consume(_:)`` that returns `true` takes one).
        case remaining(Int)
    }

    private struct State {
        var rules: [FaultRule] = []
        var quirks: [Quirk: QuirkBudget] = [:]
        var dropHandlers: [Int: @Sendable (FaultScope) -> Void] = [:]
        var nextHandlerID = 0
    }

    private let state = Mutex(State())

    /// Creates a plan with no faults and the given quirks switched on for good.
    public init(quirks: Set<Quirk> = []) {
        state.withLock { state in
            for quirk in quirks { state.quirks[quirk] = .always }
        }
    }

    // MARK: Faults

    /// Switches `fault` on for the requests in `scope`. Activating ``Fault/dropStreams`` also closes the
    /// streams that are open on that scope now.
    public func activate(_ fault: Fault, on scope: FaultScope = .all) {
        let rule = FaultRule(fault: fault, scope: scope)
        state.withLock { state in
            if !state.rules.contains(rule) { state.rules.append(rule) }
        }
        if fault == .dropStreams { dropStreams(on: scope) }
    }

    /// Switches `fault` off on every scope it was activated on.
    public func deactivate(_ fault: Fault) {
        state.withLock { $0.rules.removeAll { $0.fault == fault } }
    }

    /// Switches every fault and every quirk off.
    public func clear() {
        state.withLock { state in
            state.rules.removeAll()
            state.quirks.removeAll()
        }
    }

    /// The faults that are active now, with their scopes, in activation order.
    public var rules: [FaultRule] {
        state.withLock { $0.rules }
    }

    /// The faults that apply to a request for `path`, in activation order.
    public func faults(for path: String) -> [Fault] {
        state.withLock { $0.rules.filter { $0.scope.matches(path) }.map(\.fault) }
    }

    /// Whether `fault` applies to a request for `path`.
    public func isActive(_ fault: Fault, for path: String) -> Bool {
        faults(for: path).contains(fault)
    }

    /// Whether a ``Fault/timeout`` applies to `path` (the hang ends when this turns false).
    func isHanging(_ path: String) -> Bool {
        isActive(.timeout, for: path)
    }

    // MARK: Quirks

    /// Switches `quirk` on until it is disabled.
    public func enable(_ quirk: Quirk) {
        state.withLock { $0.quirks[quirk] = .always }
    }

    /// Switches `quirk` on for the next `times` uses (e.g. `enable(.energyGlitch, times: 1)`).
    public func enable(_ quirk: Quirk, times: Int) {
        state.withLock { $0.quirks[quirk] = times > 0 ? .remaining(times) : nil }
    }

    /// Switches `quirk` off.
    public func disable(_ quirk: Quirk) {
        state.withLock { $0.quirks[quirk] = nil }
    }

    /// Whether `quirk` is on, without using it up.
    public func isEnabled(_ quirk: Quirk) -> Bool {
        state.withLock { $0.quirks[quirk] != nil }
    }

    /// The quirks that are on now.
    public var enabledQuirks: Set<Quirk> {
        state.withLock { Set($0.quirks.keys) }
    }

    /// Uses `quirk` once: returns whether it is on, and counts a counted quirk down.
    public func consume(_ quirk: Quirk) -> Bool {
        state.withLock { state in
            switch state.quirks[quirk] {
            case nil:
                return false
            case .always:
                return true
            case .remaining(let count):
                state.quirks[quirk] = count > 1 ? .remaining(count - 1) : nil
                return true
            }
        }
    }

    // MARK: Streams

    /// Closes every open SSE/WebSocket stream on `scope` now; streams opened afterwards stay open
    /// (unless ``Fault/dropStreams`` is active).
    public func dropStreams(on scope: FaultScope = .all) {
        let handlers = state.withLock { Array($0.dropHandlers.values) }
        for handler in handlers { handler(scope) }
    }

    /// Registers a handler that ``dropStreams(on:)`` calls; returns a token for ``removeDropHandler(_:)``.
    func addDropHandler(_ handler: @escaping @Sendable (FaultScope) -> Void) -> Int {
        state.withLock { state in
            let id = state.nextHandlerID
            state.nextHandlerID += 1
            state.dropHandlers[id] = handler
            return id
        }
    }

    /// Removes a handler registered with ``addDropHandler(_:)``.
    func removeDropHandler(_ id: Int) {
        _ = state.withLock { $0.dropHandlers.removeValue(forKey: id) }
    }
}
