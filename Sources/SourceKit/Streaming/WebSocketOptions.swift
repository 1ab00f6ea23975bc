/// How a WebSocket connection is kept alive and re-established.
public struct WebSocketOptions: Sendable {
    /// An application-level message sent at a fixed interval (OCPP CSMS's `PingConnection`).
    public struct KeepAlive: Sendable, Hashable {
        /// The text frame to send.
        public var message: String
        /// How often.
        public var interval: Duration

        /// Creates a keep-alive.
        public init(message: String, interval: Duration) {
            self.message = message
            self.interval = interval
        }
    }

    /// Interval of WebSocket protocol pings; a missing pong closes the connection. `nil` disables them.
    public var pingInterval: Duration?
    /// An optional application-level keep-alive message.
    public var keepAlive: KeepAlive?
    /// Text frames sent right after every connect (subscriptions, tokens).
    public var greeting: [String]
    /// No message for this long counts as a dead connection and reconnects; `nil` disables it.
    public var idleTimeout: Duration?
    /// Delays between reconnects; reset once a connection delivered a message.
    public var backoff: Backoff
    /// After this many connects in a row without a single message, the stream finishes with the last error.
    public var maxConsecutiveFailures: Int
    /// The largest message accepted, in bytes.
    public var maxMessageSize: Int
    /// How long a clean close waits for the server's close frame.
    public var closeTimeout: Duration
    /// Whether a connection that ends is re-established inside the same stream. `false` ends
    /// the stream (with the reason) when its one connection ends, so the caller reconnects
    /// itself, e.g. with a fresh token in ``greeting`` (OCPP CSMS).
    public var reconnects: Bool = true

    /// Creates options.
    public init(
        pingInterval: Duration? = .seconds(30),
        keepAlive: KeepAlive? = nil,
        greeting: [String] = [],
        idleTimeout: Duration? = .seconds(60),
        backoff: Backoff = Backoff(initial: .seconds(1), maximum: .seconds(60)),
        maxConsecutiveFailures: Int = 5,
        maxMessageSize: Int = 1 << 20,
        closeTimeout: Duration = .seconds(2)
    ) {
        self.pingInterval = pingInterval
        self.keepAlive = keepAlive
        self.greeting = greeting
        self.idleTimeout = idleTimeout
        self.backoff = backoff
        self.maxConsecutiveFailures = max(1, maxConsecutiveFailures)
        self.maxMessageSize = maxMessageSize
        self.closeTimeout = closeTimeout
    }
}
