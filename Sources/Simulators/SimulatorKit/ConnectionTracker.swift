import NIOCore
import Synchronization

/// The open client connections of one simulator run, so that "down" (``RunningSimulator/stopAbruptly()``)
/// can cut them like a device losing power, instead of leaving keep-alive connections open that
/// clients would wait on until their timeout.
///
/// Install ``handler()`` on each child channel (Hummingbird's `additionalChannelHandlers`).
public final class ConnectionTracker: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    public init() {}

    /// A handler that registers its channel until the channel closes (also across a WebSocket
    /// upgrade, which removes the handler).
    public func handler() -> any RemovableChannelHandler {
        TrackingHandler(tracker: self)
    }

    /// The number of open connections.
    public var count: Int { channels.withLock { $0.count } }

    /// Closes every open connection at once.
    public func closeAll() {
        let open = channels.withLock { channels in
            defer { channels.removeAll() }
            return Array(channels.values)
        }
        for channel in open { channel.close(mode: .all, promise: nil) }
    }

    fileprivate func register(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.channels.withLock { _ = $0.removeValue(forKey: id) }
        }
    }
}

/// Registers the channel it is added to; passes everything through untouched.
private final class TrackingHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny
    let tracker: ConnectionTracker

    init(tracker: ConnectionTracker) {
        self.tracker = tracker
    }

    func handlerAdded(context: ChannelHandlerContext) {
        tracker.register(context.channel)
    }
}
