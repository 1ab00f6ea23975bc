import BridgeCore
import Synchronization

/// A source adapter passed through unchanged, except that it counts the reads under way and marks
/// the tasks running them (``SimulatedClock/inRead``), so ``ClockDriver`` knows when every read
/// is either finished or parked on the simulated clock (a budget wait, a retry pause).
public final class ObservedAdapter: SourceAdapter {
    public let inner: any SourceAdapter
    private let inFlight = Atomic<Int>(0)
    private let openStreams = Atomic<Int>(0)

    public init(_ inner: any SourceAdapter) {
        self.inner = inner
    }

    /// Reads started and not finished.
    public var readsInFlight: Int { inFlight.load(ordering: .sequentiallyConsistent) }

    public var polls: [PollSchedule] { inner.polls }
    public var streamFallback: [PollSchedule] { inner.streamFallback }
    public var hasStream: Bool { inner.hasStream }
    public var streamSilence: Duration? { inner.streamSilence }
    public var maximumBudgetWait: Duration { inner.maximumBudgetWait }

    public func read(endpoint: String) async throws -> JSONValue? {
        inFlight.add(1, ordering: .sequentiallyConsistent)
        defer { inFlight.subtract(1, ordering: .sequentiallyConsistent) }
        return try await SimulatedClock.$inRead.withValue(true) {
            try await inner.read(endpoint: endpoint)
        }
    }

    /// Streams handed to the supervisor whose connection has not ended yet (the inner sequence
    /// neither finished nor threw, and the supervisor did not stop consuming it).
    public var streamsOpen: Int { openStreams.load(ordering: .sequentiallyConsistent) }

    /// The inner stream, passed through one document at a time; ``streamsOpen`` counts it until
    /// it ends, which is when the supervisor goes on to its reconnect pause.
    public func stream() -> AsyncThrowingStream<SourceDocument, any Error>? {
        guard let stream = inner.stream() else { return nil }
        openStreams.add(1, ordering: .sequentiallyConsistent)
        return AsyncThrowingStream { continuation in
            let task = Task { [self] in
                do {
                    for try await document in stream {
                        continuation.yield(document)
                    }
                    openStreams.subtract(1, ordering: .sequentiallyConsistent)
                    continuation.finish()
                } catch {
                    openStreams.subtract(1, ordering: .sequentiallyConsistent)
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? {
        try await inner.execute(call)
    }

    public func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        try await inner.perform(action: action, value: value, childKey: childKey)
    }

    public func statistics() async -> AdapterStatistics { await inner.statistics() }
}
