import SourceKit
import Testing

@Suite("TokenBucket and RateBudget")
struct RateBudgetTests {
    let start = ContinuousClock.now

    @Test("a full bucket grants its capacity, then asks to wait one interval")
    func bucketBurst() {
        var bucket = TokenBucket(requestsPerMinute: 10, reserve: 0, now: start)
        for _ in 0..<10 { #expect(bucket.take(.poll, now: start) == .granted) }
        #expect(bucket.take(.poll, now: start) == .wait(.seconds(6)))
        #expect(bucket.take(.poll, now: start + .seconds(6)) == .granted)
    }

    @Test("polling leaves the reserve to commands")
    func reserve() {
        var bucket = TokenBucket(requestsPerMinute: 10, reserve: 2, now: start)
        for _ in 0..<8 { #expect(bucket.take(.poll, now: start) == .granted) }
        #expect(bucket.take(.poll, now: start) == .wait(.seconds(6)))
        #expect(bucket.available(to: .poll, now: start) == 0)
        #expect(bucket.available(to: .command, now: start) == 2)
        #expect(bucket.take(.command, now: start) == .granted)
        #expect(bucket.take(.command, now: start) == .granted)
        #expect(bucket.take(.command, now: start) == .wait(.seconds(6)))
    }

    @Test("a blocked bucket refuses every priority until the block ends")
    func blocked() {
        var bucket = TokenBucket(requestsPerMinute: 10, now: start)
        bucket.block(for: .seconds(30), now: start)
        #expect(bucket.take(.command, now: start + .seconds(10)) == .blocked(.seconds(20)))
        // 30 s refill 5 tokens after the block was applied with an empty bucket.
        #expect(bucket.take(.command, now: start + .seconds(30)) == .granted)
        #expect(bucket.available(to: .command, now: start + .seconds(30)) == 4)
    }

    @Test("acquire waits on the clock for the next token")
    func acquireWaits() async throws {
        let clock = TestClock()
        let budget = RateBudget(requestsPerMinute: 10, reserve: 1, clock: clock)
        for _ in 0..<9 { try await budget.acquire(.poll) }
        #expect(await budget.remaining(for: .poll) == 0)
        #expect(await budget.remaining(for: .command) == 1)
        try await budget.acquire(.command)
        #expect(clock.sleeps.isEmpty)
        try await budget.acquire(.poll)
        // Empty bucket, reserve 1: a poll needs 2 tokens = 12 s.
        #expect(clock.sleeps == [.seconds(12)])
    }

    @Test("acquire fails fast when the wait would exceed maxWait")
    func maxWait() async throws {
        let clock = TestClock()
        let budget = RateBudget(requestsPerMinute: 1, reserve: 0, maxWait: .seconds(10), clock: clock)
        try await budget.acquire(.poll)
        await #expect(throws: SourceError.rateLimited(retryAfter: .seconds(60))) {
            try await budget.acquire(.poll)
        }
        #expect(clock.sleeps.isEmpty)
    }

    @Test("a 429 penalty blocks even an unlimited budget; default pause 60 s")
    func penalty() async throws {
        let clock = TestClock()
        let budget = RateBudget(clock: clock)
        #expect(await budget.remaining() == nil)
        #expect(await budget.penalize(retryAfter: nil) == .seconds(60))
        await #expect(throws: SourceError.rateLimited(retryAfter: .seconds(60))) {
            try await budget.acquire(.command)
        }
        clock.advance(by: .seconds(60))
        try await budget.acquire(.command)
        #expect(await budget.blockedFor == nil)
    }
}

@Suite("Backoff and RetryPolicy")
struct RetryPolicyTests {
    @Test("backoff doubles up to the maximum; jitter only shortens")
    func backoff() {
        let backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(4), multiplier: 2, jitter: 0.5)
        #expect(
            (1...6).map { backoff.delay(afterFailure: $0, random: 0) } == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4),
            ]
        )
        #expect(backoff.delay(afterFailure: 2, random: 1) == .milliseconds(500))
        #expect(backoff.delay(afterFailure: 100, random: 0) == .seconds(4))
    }

    @Test("only transient errors are retried, within maxAttempts")
    func transient() {
        let policy = RetryPolicy(maxAttempts: 3)
        #expect(policy.delay(afterFailure: 1, error: .connection("refused"), random: 0) == .milliseconds(500))
        #expect(policy.delay(afterFailure: 2, error: .timeout(after: .seconds(1)), random: 0) == .seconds(1))
        #expect(policy.delay(afterFailure: 3, error: .timeout(after: .seconds(1)), random: 0) == nil)
        #expect(policy.delay(afterFailure: 1, error: .unavailable(status: 503, message: nil), random: 0) != nil)
        for error: SourceError in [
            .unauthorized, .notFound, .rateLimited(retryAfter: nil), .malformedResponse("x"), .http(status: 400, message: nil),
        ] {
            #expect(policy.delay(afterFailure: 1, error: error, random: 0) == nil)
        }
    }

    @Test("a 503 Retry-After lengthens the delay, up to maxRetryAfter")
    func retryAfter() {
        let policy = RetryPolicy(maxAttempts: 3, maxRetryAfter: .seconds(10))
        let error = SourceError.unavailable(status: 503, message: nil)
        #expect(policy.delay(afterFailure: 1, error: error, retryAfter: .seconds(5), random: 0) == .seconds(5))
        #expect(policy.delay(afterFailure: 1, error: error, retryAfter: .seconds(30), random: 0) == nil)
    }
}
