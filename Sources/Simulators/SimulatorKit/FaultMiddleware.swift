import Hummingbird
import ServiceLifecycle

/// Hummingbird middleware that gives a simulator its shared behaviour: it records each request in a
/// ``RequestLog``, enforces an optional bearer token, and applies the ``FaultPlan``.
///
/// Order per request: record → ``Fault/timeout`` (hang) → ``Fault/slow(_:)`` → ``Fault/unauthorized``
/// and the token check (401) → ``Fault/httpError(_:)`` → handler → ``Fault/malformedJSON`` (truncates a
/// JSON body).
public struct FaultMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Longest a ``Fault/timeout`` hang lasts when nothing else ends it.
    public static var maximumHang: Duration { .seconds(300) }

    let faults: FaultPlan
    let requests: RequestLog?
    let bearerToken: String?
    let recordsUpgradeRequests: Bool

    /// Creates the middleware.
    /// - Parameters:
    ///   - faults: The plan read on every request.
    ///   - requests: Where requests are recorded; `nil` records nothing.
    ///   - bearerToken: When set, every request needs `Authorization: Bearer <token>` or gets 401.
    ///   - recordsUpgradeRequests: Whether WebSocket upgrade requests are recorded here. A router that
    ///     only sees upgrades that another router declined passes `false`, so each is recorded once.
    public init(faults: FaultPlan, requests: RequestLog?, bearerToken: String?, recordsUpgradeRequests: Bool = true) {
        self.faults = faults
        self.requests = requests
        self.bearerToken = bearerToken
        self.recordsUpgradeRequests = recordsUpgradeRequests
    }

    /// Records the request, applies the faults and the token check, then calls `next`.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        let path = request.uri.path
        try await record(&request)

        let active = faults.faults(for: path)
        if active.contains(.timeout) {
            await hang(path: path)
            if faults.isHanging(path) { return Response(status: .serviceUnavailable) }
        }
        for case .slow(let duration) in active {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
        }
        if active.contains(.unauthorized) || !isAuthorized(request) {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
        }
        for case .httpError(let status) in active {
            return Response(status: HTTPResponse.Status(code: status))
        }

        var response = try await next(request, context)
        if faults.isActive(.malformedJSON, for: path), response.headers[.contentType] != "text/event-stream" {
            response.body = response.body.map { JSONResponse.malformed($0) }
        }
        return response
    }

    private func isAuthorized(_ request: Request) -> Bool {
        guard let bearerToken else { return true }
        return request.headers[.authorization] == "Bearer \(bearerToken)"
    }

    private func record(_ request: inout Request) async throws {
        guard let requests else { return }
        let isUpgrade = request.headers[.upgrade]?.lowercased().contains("websocket") ?? false
        if isUpgrade && !recordsUpgradeRequests { return }
        var body: [UInt8] = []
        if [.post, .put, .patch, .delete].contains(request.method) {
            let buffer = try await request.collectBody(upTo: 1 << 20)
            body = Array(buffer.readableBytesView)
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            let value = field.name == .authorization ? RecordedRequest.redactAuthorization(field.value) : field.value
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        requests.record(
            RecordedRequest(
                method: request.method.rawValue,
                path: request.uri.path,
                query: request.uri.query ?? "",
                headers: headers,
                body: body
            )
        )
    }

    /// Waits until the timeout fault is switched off, the simulator shuts down, or ``maximumHang`` passes.
    private func hang(path: String) async {
        let deadline = ContinuousClock.now.advanced(by: Self.maximumHang)
        while faults.isHanging(path), !Task.isCancelled, !Task.isShuttingDownGracefully, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
