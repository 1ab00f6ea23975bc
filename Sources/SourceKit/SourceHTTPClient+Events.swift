import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

extension SourceHTTPClient {
    /// Subscribes to a server-sent-event stream at `path`, reconnecting as browsers do.
    ///
    /// Each connect draws on the rate budget and is authorized like a GET (401 recovery
    /// included). After a drop it reconnects after the server's `retry:` delay (or
    /// ``StreamOptions/reconnectDelay``), sending `Last-Event-ID`. A connection silent for
    /// ``StreamOptions/idleTimeout`` is dropped and reconnected. The stream finishes with an
    /// error that is not retryable (401 after recovery, 404, …) or after
    /// ``StreamOptions/maxConsecutiveFailures`` fruitless connects, and finishes normally
    /// on HTTP 204 (the spec's "stop reconnecting"). Cancelling the consuming task closes it.
    public func events(
        _ path: String,
        query: [(name: String, value: String)] = [],
        options: StreamOptions = StreamOptions()
    ) -> AsyncThrowingStream<SSEEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<SSEEvent, any Error>.makeStream()
        var request = makeRequest(.get, path, query: query, body: nil, headers: [])
        request.setHeader("Accept", "text/event-stream")
        request.setHeader("Cache-Control", "no-cache")
        let task = Task { [request] in
            await self.runEvents(request, options: options, continuation: continuation)
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func runEvents(
        _ base: SourceRequest,
        options: StreamOptions,
        continuation: AsyncThrowingStream<SSEEvent, any Error>.Continuation
    ) async {
        let parser = Shared(SSEParser())
        var failures = 0
        while !Task.isCancelled {
            var request = base
            let lastEventID = parser.withLock { $0.lastEventID }
            if !lastEventID.isEmpty { request.setHeader("Last-Event-ID", lastEventID) }
            let delivered = Shared(0)
            let failure: SourceError
            do {
                try await connectEvents(request, options: options, parser: parser, delivered: delivered, continuation: continuation)
                continuation.finish()  // HTTP 204: the server asks us to stop
                return
            } catch {
                failure = error
            }
            if Task.isCancelled || failure == .cancelled { break }
            let gotEvents = delivered.value > 0
            failures = gotEvents ? 0 : failures + 1
            if !failure.isRetryable || failures >= options.maxConsecutiveFailures {
                continuation.finish(throwing: failure)
                return
            }
            let serverDelay = parser.withLock { $0.reconnectionTime } ?? options.reconnectDelay
            var delay = gotEvents ? serverDelay : max(serverDelay, options.backoff.delay(afterFailure: failures, random: random()))
            if case .rateLimited(let retryAfter) = failure, let retryAfter { delay = max(delay, retryAfter) }
            logger.debug(
                "Event stream reconnecting",
                metadata: ["http.path": "\(base.path)", "error": "\(failure)", "retry.delay_ms": "\(delay.milliseconds)"]
            )
            do {
                try await clock.sleep(for: delay)
            } catch {
                break
            }
        }
        continuation.finish()
    }

    /// One connection: returns on HTTP 204, throws when the stream ends or fails.
    private func connectEvents(
        _ base: SourceRequest,
        options: StreamOptions,
        parser: Shared<SSEParser>,
        delivered: Shared<Int>,
        continuation: AsyncThrowingStream<SSEEvent, any Error>.Continuation
    ) async throws(SourceError) {
        let response = try await openStream(base)
        guard response.status.code != 204 else { return }
        parser.withLock { $0.reset() }
        let activity = ActivityMonitor()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await chunk in response.body {
                        activity.touch()
                        let (events, buffered) = parser.withLock { parser in
                            (parser.feed(chunk.readableBytesView), parser.bufferedByteCount)
                        }
                        for event in events { continuation.yield(event) }
                        delivered.withLock { $0 += events.count }
                        if buffered > options.maxEventSize { throw SourceError.tooLarge(limit: options.maxEventSize) }
                    }
                    throw SourceError.streamEnded
                }
                group.addTask { try await activity.expire(after: options.idleTimeout) }
                _ = try await group.next()
                group.cancelAll()
            }
        } catch {
            throw SourceError(transportError: error, timeout: options.idleTimeout).redacting(auth.secrets)
        }
    }

    /// Sends the stream request with budget and auth, and returns once a 2xx head is in.
    private func openStream(_ base: SourceRequest) async throws(SourceError) -> HTTPClientResponse {
        var unauthorized = 0
        while true {
            try await budget.acquire(.poll)
            var request = try await auth.authorize(base, using: session)
            request.setHeader("User-Agent", configuration.userAgent)
            for header in configuration.headers where request.header(header.name) == nil {
                request.setHeader(header.name, header.value)
            }
            let transport = HTTPTransport(client: try pool.client(for: configuration.tls), maxBodySize: configuration.maxBodySize)
            let start = ContinuousClock.now
            let response: HTTPClientResponse
            do {
                response = try await transport.open(request, timeout: configuration.timeout)
            } catch {
                let error = error.redacting(auth.secrets)
                counters.withLock { $0.record(failure: error) }
                throw error
            }
            let status = Int(response.status.code)
            counters.withLock { $0.record(status: status, latency: ContinuousClock.now - start) }
            guard !(200..<300).contains(status) else { return response }
            // Read the error body (64 KB at most) for its message; this also releases the connection.
            let body = (try? await HTTPTransport(client: transport.client, maxBodySize: 64 << 10).collect(response)) ?? []
            let answer = SourceResponse(status: status, headers: response.headers, body: body)
            await auth.observe(answer, of: request)
            if status == 401 {
                unauthorized += 1
                if try await auth.recover(fromUnauthorized: unauthorized, request: request, using: session) { continue }
            }
            if status == 429 {
                throw .rateLimited(retryAfter: await budget.penalize(retryAfter: answer.retryAfter(now: clock.wallClock)))
            }
            throw SourceError.from(answer, secrets: auth.secrets, now: clock.wallClock) ?? .http(status: status, message: nil)
        }
    }
}
