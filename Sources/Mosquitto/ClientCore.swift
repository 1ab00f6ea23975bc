import CMosquitto
import Synchronization

/// What the libmosquitto network thread reports about the connection.
enum LoopEvent: Sendable {
    /// CONNACK arrived; `code` is 0 on success, else the CONNACK (3.1.1) or reason (5) code.
    case connected(code: Int32)
    /// The connection ended; `code` is 0 for a disconnect we asked for.
    case disconnected(code: Int32)
    /// libmosquitto logged an error (installed for TLS connections only, where a failed
    /// handshake ends the network thread without any other callback).
    case libraryError(String)
}

/// Where the connection is, as seen from Swift.
enum ConnectionPhase: Sendable, Equatable {
    case idle
    case connecting
    case connected
    case reconnecting
    case stopped
}

/// One publish (or subscribe) waiting for its acknowledgement.
struct Waiter {
    let token: UInt64
    let operation: String
    let deadline: ContinuousClock.Instant
    let timeout: Duration
    let continuation: CheckedContinuation<Void, any Error>?
}

/// A publish withheld while disconnected, waiting in the offline queue.
struct PendingPublish {
    let token: UInt64
    let topic: String
    let payload: [UInt8]
    let qos: QoS
    let retain: Bool
    let properties: PublishProperties
    let deadline: ContinuousClock.Instant
    let timeout: Duration
    let continuation: CheckedContinuation<Void, any Error>?
}

/// State shared by Swift callers and the libmosquitto thread.
///
/// Everything the C thread touches is in here: a `Mutex`-guarded state and two
/// `AsyncStream.Continuation`s, all `Sendable`. The C callbacks only copy data out of
/// libmosquitto's buffers and hand it over (yield, or resume a waiting continuation);
/// no logging, no libmosquitto calls and no user code run on that thread.
final class ClientCore: Sendable {
    struct State {
        var phase: ConnectionPhase = .idle
        var started = false
        var everConnected = false
        var nextToken: UInt64 = 1
        /// Waiters by libmosquitto message id.
        var waiters: [Int32: Waiter] = [:]
        /// Tokens whose task was cancelled before the waiter was registered.
        var cancelledTokens: Set<UInt64> = []
        var offline: OfflineQueue<PendingPublish>
        /// Subscriptions restored on every connect, in the order they were made.
        var subscriptions: [(filter: String, qos: QoS, options: Int32)] = []
        var connectWaiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var refusal: MosquittoError?
        /// Set while the deadline ticker sleeps because nothing waits with a deadline; whoever
        /// adds a deadline wakes it through `deadlineWake`.
        var deadlineTickerParked = false
        var deadlineWake: AsyncStream<Void>.Continuation?

        /// Wakes the deadline ticker if it sleeps for want of deadlines (call after adding one).
        mutating func deadlineAdded() {
            guard deadlineTickerParked else { return }
            deadlineTickerParked = false
            deadlineWake?.yield()
        }

        /// Queues a publish made while disconnected; the oldest one if the queue was full.
        mutating func queueOffline(_ pending: PendingPublish) -> PendingPublish? {
            defer { deadlineAdded() }
            return offline.push(pending)
        }

        /// Registers the waiter for `mid`. libmosquitto's message ids are 16 bits and shared with
        /// QoS 0 messages, so at high rates an id can come round again while an older message
        /// still waits for its acknowledgement: that older waiter is failed (it would otherwise
        /// never be resumed) and the count kept equal to the waiters.
        mutating func register(_ waiter: Waiter, mid: Int32, counter: borrowing Atomic<Int>) {
            deadlineAdded()
            guard let displaced = waiters.updateValue(waiter, forKey: mid) else { return }
            counter.subtract(1, ordering: .releasing)
            // Resuming only schedules the waiting task; it does not run it under this lock.
            displaced.continuation?.resume(throwing: MosquittoError.acknowledgementUntraceable(operation: displaced.operation))
        }
    }

    let state: Mutex<State>
    /// How many acknowledgements someone waits for: the waiters in `state.waiters`, plus a
    /// publish or subscribe whose waiter is registered once libmosquitto returns its message id.
    /// Raised before that call and lowered with every removal, under the state lock; read without
    /// it by the network thread, which reports the write of every QoS 0 message and need not
    /// take the lock (and wait for a publisher holding it) when nobody waits.
    let awaitedAcknowledgements = Atomic<Int>(0)
    let messages: AsyncStream<MQTTMessage>.Continuation
    let events: AsyncStream<LoopEvent>.Continuation
    let statistics: Statistics

    init(
        offlineQueueLimit: Int,
        messages: AsyncStream<MQTTMessage>.Continuation,
        events: AsyncStream<LoopEvent>.Continuation,
        statistics: Statistics
    ) {
        self.state = Mutex(State(offline: OfflineQueue(limit: offlineQueueLimit)))
        self.messages = messages
        self.events = events
        self.statistics = statistics
    }

    /// Recovers the core from the `obj` pointer libmosquitto hands to every callback.
    static func from(_ pointer: UnsafeMutableRawPointer?) -> ClientCore? {
        guard let pointer else { return nil }
        return Unmanaged<ClientCore>.fromOpaque(pointer).takeUnretainedValue()
    }

    func makeToken() -> UInt64 {
        state.withLock { state in
            defer { state.nextToken += 1 }
            return state.nextToken
        }
    }

    // MARK: Called on the libmosquitto thread

    /// A PUBACK/PUBCOMP (or the write of a QoS 0 message) or SUBACK for `mid`.
    func acknowledge(mid: Int32, failure: MosquittoError?) {
        // A waiter is counted before libmosquitto can send its message, so 0 means none for `mid`.
        guard awaitedAcknowledgements.load(ordering: .acquiring) > 0 else { return }
        let waiter = state.withLock { state in
            let waiter = state.waiters.removeValue(forKey: mid)
            if waiter != nil { awaitedAcknowledgements.subtract(1, ordering: .releasing) }
            return waiter
        }
        guard let waiter else { return }
        if let failure {
            waiter.continuation?.resume(throwing: failure)
        } else {
            waiter.continuation?.resume()
        }
    }

    func deliver(_ message: MQTTMessage) {
        statistics.received.add(1, ordering: .relaxed)
        if case .dropped = messages.yield(message) {
            statistics.incomingDropped.add(1, ordering: .relaxed)
        }
    }

    // MARK: Called from Swift

    /// Fails the waiter registered under `token`, wherever it is (in flight or queued offline).
    func fail(token: UInt64, with error: any Error) {
        let continuation: CheckedContinuation<Void, any Error>?? = state.withLock { state in
            if let entry = state.waiters.first(where: { $0.value.token == token }) {
                state.waiters.removeValue(forKey: entry.key)
                awaitedAcknowledgements.subtract(1, ordering: .releasing)
                return .some(entry.value.continuation)
            }
            if let pending = state.offline.remove(where: { $0.token == token }) {
                return .some(pending.continuation)
            }
            state.cancelledTokens.insert(token)
            return .none
        }
        if case .some(let continuation) = continuation {
            continuation?.resume(throwing: error)
        }
    }

    /// Fails every waiter whose deadline has passed.
    func expire(now: ContinuousClock.Instant) {
        let expired: [(Waiter)] = state.withLock { state in
            let late = state.waiters.filter { $0.value.deadline <= now }
            for mid in late.keys { state.waiters.removeValue(forKey: mid) }
            awaitedAcknowledgements.subtract(late.count, ordering: .releasing)
            return Array(late.values)
        }
        for waiter in expired {
            waiter.continuation?.resume(throwing: MosquittoError.timeout(operation: waiter.operation, after: waiter.timeout))
        }
        let expiredOffline: [PendingPublish] = state.withLock { state in
            var late: [PendingPublish] = []
            while let pending = state.offline.remove(where: { $0.deadline <= now }) { late.append(pending) }
            return late
        }
        for pending in expiredOffline {
            pending.continuation?.resume(
                throwing: MosquittoError.timeout(operation: "publish to \(pending.topic)", after: pending.timeout))
        }
    }

    /// Ends every wait with `error` (used at shutdown).
    func failEverything(with error: MosquittoError) {
        let (waiters, queued, connectWaiters) = state.withLock { state in
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            awaitedAcknowledgements.subtract(waiters.count, ordering: .releasing)
            let queued = state.offline.drain()
            let connectWaiters = Array(state.connectWaiters.values)
            state.connectWaiters.removeAll()
            return (waiters, queued, connectWaiters)
        }
        for waiter in waiters { waiter.continuation?.resume(throwing: error) }
        for pending in queued { pending.continuation?.resume(throwing: error) }
        for waiter in connectWaiters { waiter.resume(throwing: error) }
    }
}

/// Counters of the client, readable at any time (e.g. for `/metrics` and `bridge/info`).
public final class Statistics: Sendable {
    /// Messages handed to the broker (QoS 0 written, QoS ≥ 1 accepted by libmosquitto).
    public let published = Atomic<Int>(0)
    /// Messages received on subscriptions.
    public let received = Atomic<Int>(0)
    /// Successful reconnects after the first connection.
    public let reconnects = Atomic<Int>(0)
    /// QoS ≥ 1 publishes dropped from the full offline queue.
    public let offlineDropped = Atomic<Int>(0)
    /// QoS 0 publishes discarded because the broker was unreachable.
    public let offlineDiscardedQoS0 = Atomic<Int>(0)
    /// Received messages dropped because the consumer fell behind.
    public let incomingDropped = Atomic<Int>(0)

    public init() {}
}
