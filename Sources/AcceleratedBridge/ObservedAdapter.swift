import BridgeCore
import Synchronization

/// A source adapter passed through unchanged, except that it counts the reads under way and marks
/// the tasks running them (``SimulatedClock/inRead``), so ``ClockDriver`` knows when every read
/// is either finished or parked on the simulated clock (a budget wait, a retry pause).
public final class ObservedAdapter: SourceAdapter {
    public let inner: any SourceAdapter
    private let inFlight = Atomic<Int>(0)

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

    public func stream() -> AsyncThrowingStream<SourceDocument, any Error>? { inner.stream() }

    public func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? {
        try await inner.execute(call)
    }

    public func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        try await inner.perform(action: action, value: value, childKey: childKey)
    }

    public func statistics() async -> AdapterStatistics { await inner.statistics() }
}
