extension SourceHTTPClient {
    /// Per-source transport settings, taken from the source's configuration keys.
    public struct Configuration: Sendable {
        /// The API's base URL (`url`).
        public var baseURL: SourceURL
        /// How long one request may take, body included (`timeout`).
        public var timeout: Duration
        /// Certificate verification (`ca_file`, `insecure_tls`).
        public var tls: SourceTLS
        /// Largest accepted response body in bytes.
        public var maxBodySize: Int
        /// Headers sent with every request, logins included (FlowerHub's `Origin`).
        public var headers: [(name: String, value: String)]
        /// How failed GETs are retried.
        public var retry: RetryPolicy
        /// Whether GETs are sent conditionally with `If-None-Match`.
        public var usesETags: Bool
        /// The `User-Agent` header.
        public var userAgent: String

        /// Creates settings; only the base URL is required.
        public init(
            baseURL: SourceURL,
            timeout: Duration = .seconds(10),
            tls: SourceTLS = .verified,
            maxBodySize: Int = 100 << 20,
            headers: [(name: String, value: String)] = [],
            retry: RetryPolicy = .standard,
            usesETags: Bool = true,
            userAgent: String = "api2mqtt"
        ) {
            self.baseURL = baseURL
            self.timeout = timeout
            self.tls = tls
            self.maxBodySize = maxBodySize
            self.headers = headers
            self.retry = retry
            self.usesETags = usesETags
            self.userAgent = userAgent
        }
    }
}
