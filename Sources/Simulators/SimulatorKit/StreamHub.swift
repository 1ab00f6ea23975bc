import Synchronization

/// One message of a simulator's event stream: the SSE event name and the JSON text
/// (the SSE `data:` line, or the WebSocket text frame).
public struct StreamMessage: Hashable, Sendable {
    /// The SSE `event:` name; by convention the JSON document's `type`.
    public var event: String
    /// The JSON document.
    public var data: String

    /// Creates a message.
    public init(event: String, data: String) {
        self.event = event
        self.data = data
    }

    /// The message in `text/event-stream` format, ending with the blank line that dispatches it.
    public var serverSentEvent: String {
        let dataLines = data.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)\n" }.joined()
        return "event: \(event)\n\(dataLines)\n"
    }
}

/// Fans a simulator's messages out to every open SSE/WebSocket stream, and closes streams on
/// ``FaultPlan/dropStreams(on:)`` and on shutdown.
public final class StreamHub: Sendable {
    /// A stream's end of the hub: its messages, and a way to close it.
    public struct Subscription: Sendable {
        /// The messages broadcast after subscribing; it ends when the stream is dropped or the hub shuts down.
        public let messages: AsyncStream<StreamMessage>
        let id: Int
        let hub: StreamHub

        /// Ends ``messages`` for this subscriber only.
        public func close() {
            hub.close(id: id)
        }
    }

    private struct Subscriber {
        let path: String
        let continuation: AsyncStream<StreamMessage>.Continuation
    }

    private struct State {
        var subscribers: [Int: Subscriber] = [:]
        var nextID = 0
        var isShutDown = false
    }

    private let state = Mutex(State())
    private let faults: FaultPlan
    private let dropHandlerID = Mutex<Int?>(nil)

    /// Creates a hub that obeys `faults`' ``FaultPlan/dropStreams(on:)``.
    public init(faults: FaultPlan) {
        self.faults = faults
        let id = faults.addDropHandler { [weak self] scope in self?.closeAll(on: scope) }
        dropHandlerID.withLock { $0 = id }
    }

    deinit {
        if let id = dropHandlerID.withLock({ $0 }) { faults.removeDropHandler(id) }
    }

    /// Opens a stream for a client of `path`; after ``shutdown()`` the stream is already finished.
    public func subscribe(path: String) -> Subscription {
        let (stream, continuation) = AsyncStream<StreamMessage>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id: Int? = state.withLock { state in
            guard !state.isShutDown else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = Subscriber(path: path, continuation: continuation)
            return id
        }
        guard let id else {
            continuation.finish()
            return Subscription(messages: stream, id: -1, hub: self)
        }
        continuation.onTermination = { [weak self] _ in self?.remove(id: id) }
        return Subscription(messages: stream, id: id, hub: self)
    }

    /// Sends `message` to every open stream.
    public func broadcast(_ message: StreamMessage) {
        let continuations = state.withLock { $0.subscribers.values.map(\.continuation) }
        for continuation in continuations { continuation.yield(message) }
    }

    /// The number of open streams.
    public var subscriberCount: Int {
        state.withLock { $0.subscribers.count }
    }

    /// Closes every open stream whose path is in `scope`.
    public func closeAll(on scope: FaultScope = .all) {
        let closing = state.withLock { state in
            let ids = state.subscribers.filter { scope.matches($0.value.path) }.map(\.key)
            return ids.compactMap { state.subscribers.removeValue(forKey: $0)?.continuation }
        }
        for continuation in closing { continuation.finish() }
    }

    /// Closes every stream and finishes new ones at once, until ``reopen()``.
    public func shutdown() {
        state.withLock { $0.isShutDown = true }
        closeAll()
    }

    /// Accepts new streams again after ``shutdown()``.
    public func reopen() {
        state.withLock { $0.isShutDown = false }
    }

    private func close(id: Int) {
        state.withLock { $0.subscribers.removeValue(forKey: id) }?.continuation.finish()
    }

    private func remove(id: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }
}
