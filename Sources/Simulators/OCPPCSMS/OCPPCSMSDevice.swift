import BridgeCore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import ServiceLifecycle
import Synchronization

/// The simulated CSMS behind an ``OCPPCSMSSimulator``: its state and its HTTP application. It
/// knows nothing of the server's lifecycle, so the server can hold it without a cycle.
final class OCPPCSMSDevice: Sendable {
    let configuration: OCPPCSMSSimulator.Configuration
    let faults: FaultPlan
    let requests: RequestLog
    let hub: StreamHub
    let store: Mutex<OCPPCSMSStore>

    init(configuration: OCPPCSMSSimulator.Configuration) {
        self.configuration = configuration
        self.faults = FaultPlan(quirks: configuration.quirks)
        self.requests = RequestLog()
        self.hub = StreamHub(faults: faults)
        self.store = Mutex(OCPPCSMSStore(configuration: configuration))
    }

    /// Runs `body` on the store with the current rendering quirks, then sends what it queued to
    /// the WebSocket listeners.
    func withStore<T: Sendable>(_ body: (inout OCPPCSMSStore) -> T) -> T {
        let flags = OCPPCSMSStore.RenderFlags(faults)
        let hasListeners = hub.subscriberCount > 0
        let (result, outbox) = store.withLock { store in
            store.flags = flags
            store.hasListeners = hasListeners
            let result = body(&store)
            return (result, store.drainOutbox())
        }
        for message in outbox { hub.broadcast(message) }
        return result
    }

    var state: OCPPCSMSState {
        let openStreams = hub.subscriberCount
        var state = store.withLock { $0.snapshot }
        state.openStreams = openStreams
        return state
    }

    /// Builds the application for one run of the server.
    func makeApplication(_ binding: SimulatorServer.Binding) -> any Service {
        hub.reopen()
        let router = Router(context: BasicRequestContext.self)
        // Tokens rotate, so the bearer check is the routes' own (see `user(_:)`); the middleware
        // applies the fault plan and records requests.
        router.add(middleware: FaultMiddleware(faults: faults, requests: requests, bearerToken: nil, recordsUpgradeRequests: false))
        addRoutes(to: router)

        let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
        webSocketRouter.add(middleware: FaultMiddleware(faults: faults, requests: requests, bearerToken: nil))
        addWebSocketRoute(to: webSocketRouter)

        var services: [any Service] = []
        if let interval = configuration.tickInterval {
            services.append(TelegramTicker(delay: interval, interval: interval) { [weak self] in self?.tick() })
        }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: webSocketRouter,
                configuration: .init(
                    http1: .init(additionalChannelHandlers: [binding.connections.handler()]),
                    ws: .init(closeTimeout: .seconds(1)))
            ),
            configuration: binding.configuration,
            services: services,
            onServerRunning: binding.onServerRunning,
            logger: binding.logger
        )
    }

    /// See ``OCPPCSMSSimulator/tick()``.
    func tick() {
        withStore { $0.tick() }
    }

    // MARK: Auth

    /// The account whose current token the request carries: `Authorization: Bearer <token>`; unless
    /// ``Quirk/strictBearer`` is on, also a lower-case scheme or the bare token.
    func user(_ request: Request) -> OCPPCSMSSimulator.User? {
        guard let header = request.headers[.authorization]?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        let token: String
        if header.hasPrefix("Bearer ") {
            token = String(header.dropFirst("Bearer ".count))
        } else if faults.isEnabled(.strictBearer) {
            return nil
        } else if header.lowercased().hasPrefix("bearer ") {
            token = String(header.dropFirst("bearer ".count))
        } else {
            token = header
        }
        return store.withLock { $0.user(token: token.trimmingCharacters(in: .whitespaces)) }
    }

    // MARK: Answers

    /// The CSMS's error body: `{"status_code": 2001, "status_message": ..., "timestamp": ...}`.
    func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body: JSONValue = .object([
            "status_code": .number(2001), "status_message": .string(message), "timestamp": .string(Date().formatted(.iso8601)),
        ])
        return bytes(body.jsonBytes, status: status)
    }

    func unauthorized() -> Response {
        var response = error(.unauthorized, "Not authorized: invalid or missing token")
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }

    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        bytes(value.jsonBytes, status: status)
    }

    func bytes(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
