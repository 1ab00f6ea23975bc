/// How a source proves who it is: adds credentials to requests and recovers from 401.
///
/// One value per source, chosen from its configuration: ``NoAuth``, ``BasicAuth``,
/// ``BearerTokenAuth``, ``APIKeyAuth``, ``LoginBearerAuth`` or ``CookieSessionAuth``.
/// ``SourceHTTPClient`` calls ``authorize(_:using:)`` before every request (including the
/// WebSocket upgrade and each SSE connect), ``observe(_:of:)`` after every response, and
/// ``recover(fromUnauthorized:request:using:)`` when the server answers 401, resending the request
/// while it returns `true`.
///
/// Strategies never put a credential into an error or a log line; ``secrets`` lists the
/// values the client scrubs from anything a server sends back.
public protocol AuthStrategy: Sendable {
    /// Returns `request` with this strategy's credentials added, logging in first when needed.
    func authorize(_ request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> SourceRequest

    /// Learns from a response to an authorized request (for example, cookies it sets).
    func observe(_ response: SourceResponse, of request: SourceRequest) async

    /// Reacts to a 401 answer to `request` (as it was sent, credentials included). `attempt` is 1
    /// for the first 401 of a request, 2 for a 401 to the resent request, and so on.
    /// - Returns: `true` to resend the request, `false` to report ``SourceError/unauthorized``.
    func recover(
        fromUnauthorized attempt: Int,
        request: SourceRequest,
        using session: any AuthSession
    ) async throws(SourceError) -> Bool

    /// The answer of the last login or session refresh, if the strategy logs in (some APIs
    /// return ids the adapter needs, such as FlowerHub's `assetOwnerId`). Logs in if needed.
    func establishSession(using session: any AuthSession) async throws(SourceError) -> SourceResponse?

    /// The secret values in use, so they can be scrubbed from server messages.
    var secrets: [Credential] { get }
}

extension AuthStrategy {
    /// Does nothing.
    public func observe(_ response: SourceResponse, of request: SourceRequest) async {}

    /// Gives up at once: a fixed credential that was rejected stays rejected.
    public func recover(
        fromUnauthorized attempt: Int,
        request: SourceRequest,
        using session: any AuthSession
    ) async throws(SourceError) -> Bool {
        false
    }

    /// Returns `nil`: there is no login.
    public func establishSession(using session: any AuthSession) async throws(SourceError) -> SourceResponse? {
        nil
    }
}

/// What an auth strategy may use to log in: unauthenticated requests to the same source.
///
/// Requests sent through a session draw on the source's rate budget and carry its default
/// headers (such as `Origin`), but get no auth, no ETag handling and no retry.
public protocol AuthSession: Sendable {
    /// The source's base URL.
    var baseURL: SourceURL { get }
    /// The source's clock, for token expiry.
    var clock: any SourceClock { get }
    /// Sends `request` as it is (status codes are not turned into errors).
    func perform(_ request: SourceRequest) async throws(SourceError) -> SourceResponse
}

extension AuthSession {
    /// Builds a request to `path` on this source.
    public func request(_ method: SourceRequest.Method, _ path: String, body: SourceRequestBody? = nil) -> SourceRequest {
        var request = SourceRequest(method: method, url: baseURL.resolve(path))
        request.setHeader("Accept", "application/json")
        if let body {
            request.body = body.bytes
            request.setHeader("Content-Type", body.contentType)
        }
        return request
    }
}
