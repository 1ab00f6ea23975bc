import Logging
import NIOHTTP1
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything an adapter needs to talk to one source over HTTP: base URL, auth, ETag cache,
/// rate budget, retries, response limits, SSE and WebSocket streams, and counters.
///
/// ```swift
/// let pool = HTTPClientPool()                                // one per process
/// let client = try SourceHTTPClient(
///     configuration: .init(baseURL: SourceURL("http://192.168.1.50")),
///     auth: APIKeyAuth(key: Credential(apiKey)),
///     budget: RateBudget(requestsPerMinute: 6),
///     pool: pool, logger: logger)
/// let status = try await client.get("/api/v1/status")          // retried, conditional
/// if !status.unchanged { publish(status.body) }
/// _ = try await client.send(.post, "/api/system/restart", body: .json(["target": "bms"]))
/// ```
///
/// Every method throws ``SourceError`` only, with the auth strategy's secrets scrubbed.
public final class SourceHTTPClient: Sendable {
    /// The transport settings.
    public let configuration: Configuration
    /// The auth strategy.
    public let auth: any AuthStrategy
    /// The rate budget every request draws from.
    public let budget: RateBudget
    /// The conditional-GET cache.
    public let etags: ETagCache
    let pool: HTTPClientPool
    let clock: any SourceClock
    let logger: Logger
    let random: @Sendable () -> Double
    let counters = Mutex(SourceStatistics())

    /// Creates the client of one source.
    /// - Parameters:
    ///   - budget: the source's rate budget; default unlimited (429s are still honoured).
    ///   - pool: the process's shared HTTP clients.
    ///   - clock: the clock for budget waits, backoff and token expiry.
    ///   - random: jitter source in `0..<1` (fixed in tests).
    public init(
        configuration: Configuration,
        auth: any AuthStrategy = NoAuth(),
        budget: RateBudget? = nil,
        pool: HTTPClientPool,
        clock: any SourceClock = SystemSourceClock(),
        logger: Logger,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.configuration = configuration
        self.auth = auth
        self.budget = budget ?? RateBudget(clock: clock)
        self.etags = ETagCache()
        self.pool = pool
        self.clock = clock
        self.logger = logger
        self.random = random
    }

    /// A snapshot of the request counters.
    public var statistics: SourceStatistics { counters.withLock { $0 } }

    /// GETs `path`: conditional when a cached document exists, retried on transient failures.
    /// - Returns: a 2xx response, or the cached document flagged ``SourceResponse/unchanged`` after a 304.
    /// - Throws: ``SourceError`` for transport failures and non-2xx answers.
    public func get(
        _ path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        priority: RequestPriority = .poll
    ) async throws(SourceError) -> SourceResponse {
        let request = makeRequest(.get, path, query: query, body: nil, headers: headers)
        return try await run(request, priority: priority, retry: configuration.retry, conditional: configuration.usesETags)
    }

    /// Sends a command. Never retried (the device may have acted before the answer was lost);
    /// only resent after a 401 the auth strategy recovered from, since the server did not act then.
    /// - Returns: a 2xx response.
    /// - Throws: ``SourceError`` for transport failures and non-2xx answers.
    public func send(
        _ method: SourceRequest.Method,
        _ path: String,
        query: [(name: String, value: String)] = [],
        body: SourceRequestBody? = nil,
        headers: [(name: String, value: String)] = [],
        priority: RequestPriority = .command
    ) async throws(SourceError) -> SourceResponse {
        let request = makeRequest(method, path, query: query, body: body, headers: headers)
        return try await run(request, priority: priority, retry: .never, conditional: false)
    }

    /// Logs in if the auth strategy has a login, and returns its answer (ids the adapter needs).
    public func establishSession() async throws(SourceError) -> SourceResponse? {
        do {
            return try await auth.establishSession(using: session)
        } catch {
            throw error.redacting(auth.secrets)
        }
    }

    /// The unauthenticated view of this client that auth strategies log in through.
    var session: any AuthSession { RawSession(client: self) }

    /// Builds a request with the default headers, the given ones, and the body.
    func makeRequest(
        _ method: SourceRequest.Method,
        _ path: String,
        query: [(name: String, value: String)],
        body: SourceRequestBody?,
        headers: [(name: String, value: String)]
    ) -> SourceRequest {
        var request = SourceRequest(method: method, url: configuration.baseURL.resolve(path, query: query))
        request.setHeader("Accept", "application/json")
        if let body {
            request.body = body.bytes
            request.setHeader("Content-Type", body.contentType)
        }
        for header in headers { request.setHeader(header.name, header.value) }
        return request
    }

    /// One exchange through the pooled transport, with default headers, counters and a log line.
    func exchange(_ request: SourceRequest) async throws(SourceError) -> SourceResponse {
        var request = request
        request.setHeader("User-Agent", configuration.userAgent)
        request.headers.replaceOrAdd(name: "Accept-Encoding", value: "gzip, deflate")
        for header in configuration.headers where request.header(header.name) == nil {
            request.setHeader(header.name, header.value)
        }
        do {
            let transport = HTTPTransport(client: try pool.client(for: configuration.tls), maxBodySize: configuration.maxBodySize)
            let response = try await transport.perform(request, timeout: configuration.timeout)
            counters.withLock { $0.record(status: response.status, latency: response.latency) }
            logger.debug(
                "HTTP request",
                metadata: [
                    "http.method": "\(request.method.rawValue)", "http.path": "\(request.path)",
                    "http.status": "\(response.status)", "http.duration_ms": "\(response.latency.milliseconds)",
                ]
            )
            return response
        } catch {
            let error = error.redacting(auth.secrets)
            counters.withLock { $0.record(failure: error) }
            logger.debug(
                "HTTP request failed",
                metadata: ["http.method": "\(request.method.rawValue)", "http.path": "\(request.path)", "error": "\(error)"]
            )
            throw error
        }
    }

    func recordRetry() {
        counters.withLock { $0.retries += 1 }
    }
}

extension Duration {
    /// Whole milliseconds, for log metadata.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

/// The ``AuthSession`` auth strategies log in through: budget and default headers, no auth.
private struct RawSession: AuthSession {
    let client: SourceHTTPClient

    var baseURL: SourceURL { client.configuration.baseURL }
    var clock: any SourceClock { client.clock }

    func perform(_ request: SourceRequest) async throws(SourceError) -> SourceResponse {
        try await client.budget.acquire(.command)
        return try await client.exchange(request)
    }
}
