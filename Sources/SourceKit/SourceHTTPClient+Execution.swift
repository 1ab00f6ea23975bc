import Logging

extension SourceHTTPClient {
    /// Sends `request` with retries, then turns a non-2xx answer into its ``SourceError``.
    func run(
        _ request: SourceRequest,
        priority: RequestPriority,
        retry: RetryPolicy,
        conditional: Bool
    ) async throws(SourceError) -> SourceResponse {
        let policy = request.method.isIdempotent ? retry : .never
        var attempt = 0
        while true {
            attempt += 1
            let failure: SourceError
            var retryAfter: Duration?
            do {
                let response = try await authorized(request, priority: priority, conditional: conditional)
                guard let error = SourceError.from(response, secrets: auth.secrets, now: clock.wallClock) else {
                    return response
                }
                failure = error
                if case .unavailable = error { retryAfter = response.retryAfter(now: clock.wallClock) }
            } catch {
                failure = error.redacting(auth.secrets)
            }
            guard let delay = policy.delay(afterFailure: attempt, error: failure, retryAfter: retryAfter, random: random()) else {
                throw failure
            }
            recordRetry()
            logger.debug(
                "Retrying request",
                metadata: ["http.path": "\(request.path)", "error": "\(failure)", "retry.delay_ms": "\(delay.milliseconds)"]
            )
            do {
                try await clock.sleep(for: delay)
            } catch {
                throw .cancelled
            }
        }
    }

    /// One logical request: budget, auth (with 401 recovery), ETag and 429 handling.
    ///
    /// Returns the answer whatever its status, except that a 429 penalises the budget and
    /// throws, and a 304 becomes the cached document.
    func authorized(
        _ base: SourceRequest,
        priority: RequestPriority,
        conditional: Bool
    ) async throws(SourceError) -> SourceResponse {
        var unauthorized = 0
        while true {
            try await budget.acquire(priority)
            var request = try await auth.authorize(base, using: session)
            let cached = conditional ? etags.entry(for: request.url) : nil
            if let cached { request.setHeader("If-None-Match", cached.etag) }
            let response = try await exchange(request)
            await auth.observe(response, of: request)
            switch response.status {
            case 401:
                unauthorized += 1
                if try await auth.recover(fromUnauthorized: unauthorized, request: request, using: session) {
                    logger.debug("Resending after re-authentication", metadata: ["http.path": "\(request.path)"])
                    continue
                }
                return response
            case 429:
                let pause = await budget.penalize(retryAfter: response.retryAfter(now: clock.wallClock))
                logger.debug("Rate limited by server", metadata: ["http.path": "\(request.path)", "retry.delay_ms": "\(pause.milliseconds)"])
                throw .rateLimited(retryAfter: pause)
            case 304:
                guard let cached else { throw .malformedResponse("304 Not Modified to an unconditional request") }
                var document = cached.response
                document.unchanged = true
                document.latency = response.latency
                return document
            default:
                if conditional { etags.update(url: request.url, with: response) }
                return response
            }
        }
    }
}
