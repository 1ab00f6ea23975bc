import Foundation
import SourceKit
import Testing

@Suite("Rolling window cap")
struct RollingWindowTests {
    @Test("never more than the limit in any rolling minute; the oldest grant frees the next slot")
    func window() {
        let start = ContinuousClock.now
        var window = RollingWindow(limit: 3)
        for second in [0, 10, 20] {
            #expect(window.delay(now: start + .seconds(second)) == .zero)
            window.record(now: start + .seconds(second))
        }
        #expect(window.remaining(now: start + .seconds(30)) == 0)
        #expect(window.delay(now: start + .seconds(30)) == .seconds(30))
        #expect(window.delay(now: start + .seconds(60)) == .zero, "the grant at 0 s has left the window")
        #expect(window.remaining(now: start + .seconds(75)) == 2)
    }

    @Test("a budget with a rolling limit waits instead of bursting a full bucket plus its refill into one minute")
    func budgetCap() async throws {
        let clock = TestClock()
        let budget = RateBudget(requestsPerMinute: 10, reserve: 0, clock: clock, rollingLimit: 10)
        var grants: [Duration] = []
        let base = clock.now
        for _ in 0..<25 {
            try await budget.acquire(.poll)
            grants.append(clock.now - base)
        }
        for (index, grant) in grants.enumerated() {
            let inWindow = grants[index...].prefix { $0 - grant < .seconds(60) }.count
            #expect(inWindow <= 10, "\(inWindow) grants in the minute from \(grant)")
        }
        #expect(grants.filter { $0 == grants[24] }.count == 5, "25 = 10 + 10 + 5, a window apart: \(grants)")
        #expect(await budget.remaining() == 5)
        clock.advance(by: .seconds(60))
        #expect(await budget.remaining() == 10)
    }

    @Test("a minimum penalty lengthens a short Retry-After")
    func minimumPenalty() async {
        let clock = TestClock()
        let budget = RateBudget(requestsPerMinute: 10, clock: clock, minimumPenalty: .seconds(60))
        #expect(await budget.penalize(retryAfter: .seconds(5)) == .seconds(60))
        #expect(await budget.penalize(retryAfter: .seconds(120)) == .seconds(120))
        #expect(await budget.penalize(retryAfter: nil) == .seconds(60))
    }
}
