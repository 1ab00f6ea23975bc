import Testing

@testable import Mosquitto

@Suite("ReconnectBackoff")
struct ReconnectBackoffTests {
    @Test("waits 1, 4, 9, 16 … s between failed attempts, capped")
    func grows() {
        var backoff = ReconnectBackoff(maxDelay: 30)
        #expect((0..<7).map { _ in backoff.nextDelay() } == [1, 4, 9, 16, 25, 30, 30])
    }

    @Test("after a connection that worked the next wait is 1 s again, however often it was lost before")
    func resetsAfterConnection() {
        var backoff = ReconnectBackoff(maxDelay: 30)
        // A broker restarted three times: each loss is followed by a quick, good reconnect.
        for _ in 0..<3 {
            #expect(backoff.nextDelay() == 1)
            #expect(backoff.isBackingOff)
            backoff.connectionWorked()
            #expect(!backoff.isBackingOff)
        }
        // Without the reset the waits were 1, 4, 9, 16 s across successive restarts.
        _ = backoff.nextDelay()
        #expect(backoff.nextDelay() == 4, "a second failure in a row backs off as before")
    }
}
