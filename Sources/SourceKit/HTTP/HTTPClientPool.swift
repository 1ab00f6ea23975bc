import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTPCompression
import Synchronization

/// The process's HTTP clients: one async-http-client per distinct ``SourceTLS``, shared by
/// every source with those settings, each with its own keep-alive connection pool.
///
/// Create one at the composition root, hand it to every ``SourceHTTPClient``, and call
/// ``shutdown()`` once when the process stops (async-http-client requires it).
///
/// Failed connection attempts are not retried by the pool (`retryConnectionEstablishment`
/// is off): a refused port fails the request at once, and ``RetryPolicy`` decides what
/// happens next, instead of the pool retrying silently until the connect timeout.
public final class HTTPClientPool: Sendable {
    /// Settings shared by all clients of the pool.
    public struct Options: Sendable {
        /// How long establishing one TCP (+TLS) connection may take.
        public var connectTimeout: Duration
        /// How long an unused keep-alive connection stays open.
        public var idleConnectionTimeout: Duration
        /// Connections kept per host (a soft limit).
        public var connectionsPerHost: Int
        /// Largest accepted ratio of decompressed to compressed size (gzip/deflate bombs).
        public var decompressionRatio: Int

        /// Creates options; the defaults suit devices on a LAN and small cloud APIs.
        public init(
            connectTimeout: Duration = .seconds(5),
            idleConnectionTimeout: Duration = .seconds(60),
            connectionsPerHost: Int = 8,
            decompressionRatio: Int = 100
        ) {
            self.connectTimeout = connectTimeout
            self.idleConnectionTimeout = idleConnectionTimeout
            self.connectionsPerHost = connectionsPerHost
            self.decompressionRatio = decompressionRatio
        }
    }

    private struct State {
        var clients: [SourceTLS: HTTPClient] = [:]
        var isShutDown = false
    }

    /// The options every client is created with.
    public let options: Options
    private let state = Mutex(State())
    private let logger: Logger

    /// Creates an empty pool; clients are created on first use.
    public init(options: Options = Options(), logger: Logger = Logger(label: "api2mqtt.http")) {
        self.options = options
        self.logger = logger
    }

    /// The number of distinct clients created so far.
    public var clientCount: Int {
        state.withLock { $0.clients.count }
    }

    /// The client for `tls`, created on first use.
    /// - Throws: ``SourceError/cancelled`` after ``shutdown()``.
    func client(for tls: SourceTLS) throws(SourceError) -> HTTPClient {
        let result: HTTPClient? = state.withLock { state in
            guard !state.isShutDown else { return nil }
            if let client = state.clients[tls] { return client }
            let client = HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                configuration: makeConfiguration(tls),
                backgroundActivityLogger: logger
            )
            state.clients[tls] = client
            return client
        }
        guard let result else { throw .cancelled }
        return result
    }

    /// Shuts every client down, closing pooled connections. Further requests fail with ``SourceError/cancelled``.
    public func shutdown() async {
        let clients = state.withLock { state in
            state.isShutDown = true
            defer { state.clients = [:] }
            return Array(state.clients.values)
        }
        for client in clients {
            do {
                try await client.shutdown()
            } catch {
                logger.debug("HTTP client shutdown failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func makeConfiguration(_ tls: SourceTLS) -> HTTPClient.Configuration {
        var pool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: TimeAmount(options.idleConnectionTimeout),
            concurrentHTTP1ConnectionsPerHostSoftLimit: options.connectionsPerHost
        )
        pool.retryConnectionEstablishment = false
        return HTTPClient.Configuration(
            tlsConfiguration: tls.makeConfiguration(),
            // Redirects are not followed: they could carry credentials to another host.
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(options.connectTimeout)),
            connectionPool: pool,
            decompression: .enabled(limit: .ratio(options.decompressionRatio))
        )
    }
}
