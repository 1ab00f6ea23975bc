import Synchronization
import Testing

@testable import Mosquitto

/// The waiter table the network thread completes: message ids are 16 bits and shared with QoS 0
/// messages, and the thread skips the lock while nobody waits.
@Suite("Acknowledgement waiters")
struct AcknowledgementTests {
    private func makeCore() -> ClientCore {
        ClientCore(
            offlineQueueLimit: 10, messages: AsyncStream<MQTTMessage>.makeStream().continuation,
            events: AsyncStream<LoopEvent>.makeStream().continuation, statistics: Statistics())
    }

    /// Registers a waiter for `mid` the way a publish does (count first); returns its failure, or nil.
    private func wait(_ core: ClientCore, mid: Int32, operation: String) async -> MosquittoError? {
        await withCheckedContinuation { (outcome: CheckedContinuation<MosquittoError?, Never>) in
            Task {
                do {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                        core.awaitedAcknowledgements.add(1, ordering: .releasing)
                        core.state.withLock { state in
                            state.register(
                                Waiter(token: 1, operation: operation, deadline: .now + .seconds(60), timeout: .seconds(60), continuation: continuation),
                                mid: mid, counter: core.awaitedAcknowledgements)
                        }
                    }
                    outcome.resume(returning: nil)
                } catch let error as MosquittoError {
                    outcome.resume(returning: error)
                } catch {
                    outcome.resume(returning: .invalidArgument("\(error)"))
                }
            }
        }
    }

    @Test(
        "A message id that comes round again fails the older waiter instead of leaving it waiting forever",
        .timeLimit(.minutes(1)))
    func reusedID() async throws {
        let core = makeCore()
        async let first = wait(core, mid: 7, operation: "publish to a")
        // Let the first waiter register before the second takes its id.
        while core.state.withLock({ $0.waiters[7] == nil }) { await Task.yield() }
        async let second = wait(core, mid: 7, operation: "publish to b")
        #expect(await first == .acknowledgementUntraceable(operation: "publish to a"))
        #expect(core.awaitedAcknowledgements.load(ordering: .acquiring) == 1)
        core.acknowledge(mid: 7, failure: nil)
        #expect(await second == nil)
        #expect(core.awaitedAcknowledgements.load(ordering: .acquiring) == 0)
        #expect(core.state.withLock { $0.waiters.isEmpty })
    }
}
