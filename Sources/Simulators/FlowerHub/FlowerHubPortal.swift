import BridgeCore
import Foundation
import Hummingbird
import ServiceLifecycle
import Synchronization

/// The simulated portal behind a ``FlowerHubSimulator``: its store and its HTTP application. It
/// knows nothing of the server's lifecycle, so the server can hold it without a cycle.
final class FlowerHubPortal: Sendable {
    let configuration: FlowerHubSimulator.Configuration
    let faults: FaultPlan
    let requests: RequestLog
    let store: Mutex<FlowerHubStore>
    /// The real-time origin of `Retry-After` windows (``FlowerHubSimulator/Configuration/TimeMode/realTime``).
    let createdAt = ContinuousClock.now

    init(configuration: FlowerHubSimulator.Configuration) {
        self.configuration = configuration
        self.faults = FaultPlan(quirks: configuration.quirks)
        self.requests = RequestLog()
        self.store = Mutex(FlowerHubStore(seed: configuration.seed, startDate: configuration.startDate ?? Date()))
    }

    var account: FlowerHubSimulator.Account { configuration.account }

    /// Builds the application for one run of the server.
    func makeApplication(_ binding: SimulatorServer.Binding) -> any Service {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: FaultMiddleware(faults: faults, requests: requests, bearerToken: nil))
        router.add(middleware: FlowerHubPortalMiddleware(portal: self))
        addRoutes(to: router)
        var services: [any Service] = []
        if let interval = configuration.tickInterval, configuration.timeMode == .realTime {
            services.append(TelegramTicker(delay: interval, interval: interval) { [weak self] in self?.tick(by: interval) })
        }
        return Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [binding.connections.handler()])),
            configuration: binding.configuration,
            services: services,
            onServerRunning: binding.onServerRunning,
            logger: binding.logger
        )
    }

    func tick(by duration: Duration) {
        store.withLock { $0.advance(by: duration) }
    }

    // MARK: Answers

    /// A NestJS-style error: `{"statusCode": 404, "message": "...", "error": "Not Found"}`.
    static func nestError(_ status: HTTPResponse.Status, _ message: JSONValue, headers: HTTPFields = [:]) -> Response {
        var document: [String: JSONValue] = ["statusCode": .number(Double(status.code)), "message": message]
        if status != .unauthorized || message != "Unauthorized" { document["error"] = .string(status.reasonPhrase) }
        var response = JSONResponse.make(JSONValue.object(document), status: status)
        for field in headers { response.headers.append(field) }
        return response
    }

    /// A 200 JSON answer with its `ETag` (unless ``Quirk/noETags``), or 304 when the request's
    /// `If-None-Match` names the same tag.
    func document(_ value: JSONValue, for request: Request) -> Response {
        let text = JSONResponse.string(value)
        guard !faults.isEnabled(.noETags) else {
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let etag = Self.etag(text)
        if let candidates = request.headers[.ifNoneMatch], Self.matches(candidates, etag) {
            store.withLock { $0.notModified += 1 }
            return Response(status: .notModified, headers: [.eTag: etag])
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .eTag: etag],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A weak tag like Express's: body length and a 64-bit FNV-1a hash, in hex.
    static func etag(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var length = 0
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3
            length += 1
        }
        return "W/\"\(String(length, radix: 16))-\(String(hash, radix: 16))\""
    }

    /// Whether an `If-None-Match` value names `etag` (weak comparison, `*` matches anything).
    static func matches(_ header: String, _ etag: String) -> Bool {
        func opaque(_ tag: Substring) -> Substring {
            let trimmed = tag.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("W/") ? Substring(trimmed.dropFirst(2)) : Substring(trimmed)
        }
        let wanted = opaque(Substring(etag))
        return header.split(separator: ",").contains { candidate in
            let tag = opaque(candidate)
            return tag == "*" || tag == wanted
        }
    }

    /// The request's cookies by name.
    static func cookies(of request: Request) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = pair[..<equals].trimmingCharacters(in: .whitespaces)
                cookies[name] = pair[pair.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return cookies
    }

    /// A `Set-Cookie` value as the portal sends it.
    func setCookie(_ name: String, _ value: String, maxAge: Duration) -> String {
        let secure = configuration.secureCookies ? "; Secure" : ""
        return "\(name)=\(value); Path=/; Max-Age=\(maxAge.components.seconds); HttpOnly\(secure); SameSite=None"
    }
}

/// The portal's own behaviour around every route: 429 windows, the `Origin` check, and NestJS
/// error bodies for what the router throws (404 for unknown paths).
struct FlowerHubPortalMiddleware<Context: RequestContext>: RouterMiddleware {
    let portal: FlowerHubPortal

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let retryAfter = rateLimit() {
            let seconds = max(1, retryAfter.components.seconds + (retryAfter.components.attoseconds > 0 ? 1 : 0))
            return FlowerHubPortal.nestError(
                .tooManyRequests, "ThrottlerException: Too Many Requests", headers: [.retryAfter: String(seconds)])
        }
        if portal.faults.isEnabled(.originRequired), request.headers[.origin] != FlowerHubSimulator.portalOrigin {
            return FlowerHubPortal.nestError(.forbidden, "Forbidden resource")
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let message: JSONValue = error.status == .notFound
                ? .string("Cannot \(request.method.rawValue) \(request.uri.path)") : .string(error.body ?? error.status.reasonPhrase)
            return FlowerHubPortal.nestError(error.status, message)
        }
    }

    /// The `Retry-After` to answer with when this request is rate limited.
    private func rateLimit() -> Duration? {
        let periodic = portal.faults.isEnabled(.periodicRateLimit)
        let configuration = portal.configuration
        let manual = configuration.timeMode == .manual
        let createdAt = portal.createdAt
        return portal.store.withLock { store -> Duration? in
            // Time since the start, on the clock `Retry-After` windows pass on.
            let now = manual ? store.elapsed : ContinuousClock.now - createdAt
            if let until = store.rateLimitedUntil, now < until {
                store.requestsWhileRateLimited += 1
                store.rateLimited += 1
                return until - now
            }
            store.requestCounter += 1
            var pause: Duration?
            if let forced = store.forcedRateLimit {
                store.forcedRateLimit = nil
                pause = forced
            } else if periodic, store.requestCounter % max(1, configuration.rateLimitEvery) == 0 {
                pause = configuration.rateLimitRetryAfter
            }
            guard let pause else { return nil }
            store.rateLimitedUntil = now + pause
            store.rateLimited += 1
            return pause
        }
    }
}
