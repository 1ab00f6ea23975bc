/// How a server-sent-event stream is kept alive.
public struct StreamOptions: Sendable {
    /// No bytes at all (not even keep-alive comments) for this long counts as a dead
    /// connection and reconnects.
    public var idleTimeout: Duration
    /// The delay before reconnecting after a stream that delivered events ended, unless the
    /// server set one with `retry:`.
    public var reconnectDelay: Duration
    /// Delays after connects that failed or delivered nothing; the longer of this and the
    /// reconnect delay applies.
    public var backoff: Backoff
    /// After this many connects in a row without a single event, the stream finishes with
    /// the last error so the source's supervisor can report it.
    public var maxConsecutiveFailures: Int
    /// The largest event (or line) in bytes; a larger one fails the connection.
    public var maxEventSize: Int

    /// Creates options.
    public init(
        idleTimeout: Duration = .seconds(60),
        reconnectDelay: Duration = .seconds(3),
        backoff: Backoff = Backoff(initial: .seconds(1), maximum: .seconds(60)),
        maxConsecutiveFailures: Int = 5,
        maxEventSize: Int = 1 << 20
    ) {
        self.idleTimeout = idleTimeout
        self.reconnectDelay = reconnectDelay
        self.backoff = backoff
        self.maxConsecutiveFailures = max(1, maxConsecutiveFailures)
        self.maxEventSize = maxEventSize
    }
}
