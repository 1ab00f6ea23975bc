import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import Synchronization
import WSClient

extension SourceHTTPClient {
    /// Connects a WebSocket at `path` (`http` → `ws`, `https` → `wss`) and delivers its text
    /// messages (binary ones too, when they are valid UTF-8), reconnecting with backoff.
    ///
    /// The upgrade request carries the auth strategy's headers and the default headers and
    /// draws on the rate budget. Protocol pings keep the connection alive (a missing pong
    /// closes it); ``WebSocketOptions/greeting`` is sent after every connect and
    /// ``WebSocketOptions/keepAlive`` periodically. The connect (TCP, TLS and the HTTP upgrade) must
    /// finish within the configuration's `timeout`, else it fails with ``SourceError/timeout(after:)``
    /// like a request that gets no answer. Any end of a connection — a server close,
    /// the peer vanishing (WSClient then returns without a close frame), the idle timeout —
    /// leads to a reconnect. The stream finishes with an error after
    /// ``WebSocketOptions/maxConsecutiveFailures`` connects that delivered nothing.
    /// Cancelling the consuming task closes the socket with a close frame.
    public func webSocket(
        _ path: String,
        query: [(name: String, value: String)] = [],
        options: WebSocketOptions = WebSocketOptions()
    ) -> AsyncThrowingStream<String, any Error> {
        let (stream, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
        let url = configuration.baseURL.webSocket(path, query: query)
        let task = Task {
            await self.runWebSocket(url: url, options: options, continuation: continuation)
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func runWebSocket(url: String, options: WebSocketOptions, continuation: AsyncThrowingStream<String, any Error>.Continuation) async {
        var failures = 0
        while !Task.isCancelled {
            let delivered = Shared(0)
            let failure: SourceError
            do {
                try await connectWebSocket(url: url, options: options, delivered: delivered, continuation: continuation)
                failure = .streamEnded
            } catch {
                failure = error
            }
            if Task.isCancelled || failure == .cancelled { break }
            failures = delivered.value > 0 ? 0 : failures + 1
            if !options.reconnects || !failure.isRetryable || failures >= options.maxConsecutiveFailures {
                continuation.finish(throwing: failure)
                return
            }
            var delay = options.backoff.delay(afterFailure: max(1, failures), random: random())
            if case .rateLimited(let retryAfter) = failure, let retryAfter { delay = max(delay, retryAfter) }
            logger.debug("WebSocket reconnecting", metadata: ["error": "\(failure)", "retry.delay_ms": "\(delay.milliseconds)"])
            do {
                try await clock.sleep(for: delay)
            } catch {
                break
            }
        }
        continuation.finish()
    }

    /// One connection; returns when the server closed it cleanly, throws otherwise.
    private func connectWebSocket(
        url: String,
        options: WebSocketOptions,
        delivered: Shared<Int>,
        continuation: AsyncThrowingStream<String, any Error>.Continuation
    ) async throws(SourceError) {
        try await budget.acquire(.poll)
        var request = try await auth.authorize(SourceRequest(method: .get, url: url), using: session)
        request.setHeader("User-Agent", configuration.userAgent)
        for header in configuration.headers where request.header(header.name) == nil {
            request.setHeader(header.name, header.value)
        }
        var fields = HTTPFields()
        // WSClient writes Host and Origin itself (from the URL); sending them again would duplicate them.
        for header in request.headers where !["host", "origin"].contains(header.name.lowercased()) {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        let wsConfiguration = WebSocketClientConfiguration(
            maxFrameSize: options.maxMessageSize,
            additionalHeaders: fields,
            closeTimeout: options.closeTimeout,
            autoPing: options.pingInterval.map { .enabled(timePeriod: $0) } ?? .disabled,
            validateUTF8: true
        )
        let start = ContinuousClock.now
        let limit = configuration.timeout
        // WSClient puts no limit on the upgrade and does not notice cancellation while it waits
        // for the server's answer, so a server that accepts the connection and never answers
        // would hold this connect forever. Each connection therefore runs on an event loop of its
        // own, which a watchdog shuts down (closing the connection, which fails the upgrade) when
        // the upgrade has not completed within the source's timeout.
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let upgrade = UpgradeWatch()
        let watchdog = Task {
            try await Task.sleep(for: limit)
            if upgrade.end(.expired) { try? await loop.shutdownGracefully() }
        }
        do {
            let closeFrame: WebSocketCloseFrame?
            do {
                let tls = configuration.tls.makeConfiguration()
                let logger = self.logger
                closeFrame = try await withTaskCancellationHandler {
                    try await WebSocketClient.connect(
                        url: url,
                        configuration: wsConfiguration,
                        tlsConfiguration: tls,
                        eventLoopGroup: loop,
                        logger: logger
                    ) { inbound, outbound, _ in
                        // Upgraded too late: the connection is being closed already.
                        guard upgrade.open() else { return }
                        try await Self.serve(
                            inbound: inbound, outbound: outbound, options: options, delivered: delivered, continuation: continuation)
                    }
                } onCancel: {
                    // Cancelled while still connecting: close now rather than at the time limit.
                    // (Once open, WSClient itself closes the socket with a close frame.)
                    if upgrade.end(.cancelled) { Task { try? await loop.shutdownGracefully() } }
                }
            } catch {
                await Self.finish(watchdog: watchdog, loop: loop)
                try upgrade.check(limit: limit)
                throw error
            }
            await Self.finish(watchdog: watchdog, loop: loop)
            try upgrade.check(limit: limit)
            counters.withLock { $0.record(status: 101, latency: ContinuousClock.now - start) }
            // WSClient returns without a close frame when the peer vanished: an abnormal close.
            guard closeFrame != nil else { throw SourceError.streamEnded }
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            let failure = SourceError.connection("WebSocket upgrade refused")
            counters.withLock { $0.record(failure: failure) }
            throw failure
        } catch {
            let failure = SourceError(transportError: error, timeout: options.idleTimeout ?? configuration.timeout).redacting(auth.secrets)
            if failure != .streamEnded, failure != .cancelled { counters.withLock { $0.record(failure: failure) } }
            throw failure
        }
    }

    /// Whether a connection's upgrade completed before its time limit or a cancellation;
    /// whichever comes first wins.
    private final class UpgradeWatch: Sendable {
        enum Phase { case connecting, open, expired, cancelled }
        private let phase = Mutex(Phase.connecting)

        /// The upgrade completed: true unless the limit or a cancellation came first.
        func open() -> Bool { end(.open) }

        /// Moves from connecting to `phase`; false when it was no longer connecting.
        func end(_ next: Phase) -> Bool {
            phase.withLock { phase in
                guard phase == .connecting else { return false }
                phase = next
                return true
            }
        }

        /// Throws the reason the connect was cut short, if it was.
        func check(limit: Duration) throws(SourceError) {
            switch phase.withLock({ $0 }) {
            case .expired: throw .timeout(after: limit)
            case .cancelled: throw .cancelled
            case .connecting, .open: return
            }
        }
    }

    /// Stops the connection's watchdog and shuts its event loop down (its connection has ended).
    private static func finish(watchdog: Task<Void, any Error>, loop: MultiThreadedEventLoopGroup) async {
        watchdog.cancel()
        _ = await watchdog.result
        try? await loop.shutdownGracefully()
    }

    /// Runs inside a connection: greeting, then reading, keep-alive and idle watch side by side.
    private static func serve(
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        options: WebSocketOptions,
        delivered: Shared<Int>,
        continuation: AsyncThrowingStream<String, any Error>.Continuation
    ) async throws {
        for message in options.greeting {
            try await outbound.write(.text(message))
        }
        let activity = ActivityMonitor()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await message in inbound.messages(maxSize: options.maxMessageSize) {
                    activity.touch()
                    let text: String? =
                        switch message {
                        case .text(let text): text
                        case .binary(let buffer): String(validating: buffer.readableBytesView, as: UTF8.self)
                        }
                    if let text {
                        continuation.yield(text)
                        delivered.withLock { $0 += 1 }
                    }
                }
            }
            if let keepAlive = options.keepAlive {
                group.addTask {
                    while true {
                        try await Task.sleep(for: keepAlive.interval)
                        try await outbound.write(.text(keepAlive.message))
                    }
                }
            }
            if let idle = options.idleTimeout {
                group.addTask { try await activity.expire(after: idle) }
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
