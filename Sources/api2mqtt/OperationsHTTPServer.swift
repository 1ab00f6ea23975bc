import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// What an operations endpoint answers.
struct OperationsResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
}

/// A tiny HTTP/1.1 server for the daemon's operations endpoints (`/health`, `/metrics`): GET
/// only (any other method is 405), a bounded request (request line and headers at most 8 KiB,
/// a body at most 1 KiB), keep-alive or close as the client asks, idle connections closed after
/// a minute. On graceful shutdown it stops accepting, finishes the responses in flight and
/// closes every connection before `run()` returns.
struct OperationsHTTPServer: Service {
    /// A path without its query → an answer, or nil for 404. Runs on the connection's event loop.
    typealias Routes = @Sendable (_ path: String) -> OperationsResponse?

    let host: String
    let port: Int
    let routes: Routes
    let logger: Logger
    /// Called with the bound port once the server accepts connections (port 0 picks a free one).
    var onListening: (@Sendable (Int) -> Void)? = nil

    static let decoderLimits: NIOHTTPDecoderLimitConfiguration = {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = 4 * 1024
        limits.maxHeaderListSize = 8 * 1024
        limits.maxHeaderFieldCount = 64
        return limits
    }()

    func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let quiesce = ServerQuiescingHelper(group: group)
        let routes = self.routes
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 32)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                    }
                }
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(IdleStateHandler(readTimeout: .seconds(60)))
                        try pipeline.configureHTTPServerPipeline(
                            withPipeliningAssistance: true, withErrorHandling: true, withOutboundHeaderValidation: true,
                            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: Self.decoderLimits)
                        try pipeline.addHandler(OperationsHTTPHandler(routes: routes))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            throw OperationsHTTPServerError(message: "cannot listen on \(host):\(port): \(error)")
        }
        let bound = channel.localAddress?.port ?? port
        logger.info("HTTP endpoints listening", metadata: ["address": "\(host):\(bound)"])
        onListening?(bound)

        let quiesced = group.any().makePromise(of: Void.self)
        let finished = OneShotSignal()
        quiesced.futureResult.whenComplete { _ in finished.fire() }
        channel.closeFuture.whenComplete { _ in
            // Closed other than by quiescing (an error): nothing is left to wait for.
            if !finished.isShutdownRequested { finished.fire() }
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await finished.wait()
            } onGracefulShutdown: {
                finished.requestShutdown()
                quiesce.initiateShutdown(promise: quiesced)
            }
        } onCancel: {
            channel.close(promise: nil)
            finished.fire()
        }
    }
}

struct OperationsHTTPServerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Resumes its waiter once, whichever of shutdown, cancellation or a closed channel comes first.
private final class OneShotSignal: Sendable {
    private struct State {
        var fired = false
        var shutdownRequested = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    var isShutdownRequested: Bool { state.withLock { $0.shutdownRequested } }

    func requestShutdown() { state.withLock { $0.shutdownRequested = true } }

    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.fired = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.fired { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

/// One connection: answers each complete request from `routes`.
private final class OperationsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maximumBody = 1024

    private let routes: OperationsHTTPServer.Routes
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    /// Set once the request was answered early (body too large): the connection closes.
    private var refused = false

    init(routes: @escaping OperationsHTTPServer.Routes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            if bodyBytes > Self.maximumBody, let head {
                refused = true
                respond(context: context, version: head.version, keepAlive: false, OperationsResponse(
                    status: .payloadTooLarge, contentType: "text/plain; charset=utf-8", body: Array("request too large\n".utf8)))
            }
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, version: head.version, keepAlive: head.isKeepAlive, answer(head))
        }
    }

    /// A request NIO could not parse (the error handler before this one answered 400) or a
    /// broken connection: close it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func answer(_ head: HTTPRequestHead) -> OperationsResponse {
        guard head.method == .GET else {
            return OperationsResponse(
                status: .methodNotAllowed, contentType: "text/plain; charset=utf-8", body: Array("method not allowed\n".utf8))
        }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return routes(path)
            ?? OperationsResponse(status: .notFound, contentType: "text/plain; charset=utf-8", body: Array("not found\n".utf8))
    }

    private func respond(context: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, _ response: OperationsResponse) {
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "api2mqtt")
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        if response.status == .methodNotAllowed { headers.add(name: "Allow", value: "GET") }
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        let written = context.writeAndFlushPromise(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise(_ data: NIOAny) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        writeAndFlush(data, promise: promise)
        return promise.futureResult
    }
}
