import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A login that sets session cookies, kept in a ``CookieJar`` (FlowerHub portal).
///
/// - The first request logs in (``LoginForm``) and stores the cookies the answer sets.
/// - Every request carries the jar's cookies; cookies set by any response are stored.
/// - On a 401: the refresh endpoint is called (with the jar's cookies) and the request is
///   resent once; if that is refused, or the resent request gets 401 again, a full login
///   follows and the request is resent once more; a third 401 is ``SourceError/unauthorized``.
/// - Headers every request needs, such as `Origin`, belong in the client's default headers,
///   which login and refresh calls carry too.
public final class CookieSessionAuth: AuthStrategy {
    /// The call that renews the session from the refresh cookie.
    public struct Refresh: Sendable {
        /// The refresh path, such as `/auth/refresh-token`.
        public var path: String
        /// Its method, such as GET.
        public var method: SourceRequest.Method

        /// Creates a refresh call.
        public init(path: String, method: SourceRequest.Method = .get) {
            self.path = path
            self.method = method
        }
    }

    private struct State {
        var loggedIn = false
        var answer: SourceResponse?
        var logins = 0
        var refreshes = 0
    }

    /// The login call.
    public let login: LoginForm
    /// The refresh call, if the API has one.
    public let refresh: Refresh?
    /// The cookies of this session.
    public let jar: CookieJar
    private let state = Mutex(State())
    private let flight = SingleFlight<Void>()

    /// Creates the strategy; nothing is sent until the first request.
    public init(login: LoginForm, refresh: Refresh? = nil, jar: CookieJar = CookieJar()) {
        self.login = login
        self.refresh = refresh
        self.jar = jar
    }

    /// How many logins and refreshes have been sent.
    public var counts: (logins: Int, refreshes: Int) { state.withLock { ($0.logins, $0.refreshes) } }

    /// The login fields and all cookie values.
    public var secrets: [Credential] { login.secrets + jar.values }

    /// Logs in when there is no session yet, then adds the jar's `Cookie` header.
    public func authorize(_ request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> SourceRequest {
        if !state.withLock({ $0.loggedIn }) {
            try await logIn(session)
        }
        return withCookies(request, session)
    }

    /// Stores cookies the response sets.
    public func observe(_ response: SourceResponse, of request: SourceRequest) async {
        jar.store(from: response, of: request, now: .now)
    }

    /// Attempt 1: refresh (or log in when refresh is missing or refused); attempt 2: log in; then give up.
    public func recover(
        fromUnauthorized attempt: Int,
        request: SourceRequest,
        using session: any AuthSession
    ) async throws(SourceError) -> Bool {
        switch attempt {
        case 1:
            if refresh != nil, try await refreshSession(session) { return true }
            try await logIn(session, force: true)
            return true
        case 2:
            try await logIn(session, force: true)
            return true
        default:
            return false
        }
    }

    /// Logs in if needed and returns the latest login or refresh answer.
    public func establishSession(using session: any AuthSession) async throws(SourceError) -> SourceResponse? {
        if !state.withLock({ $0.loggedIn }) {
            try await logIn(session)
        }
        return state.withLock { $0.answer }
    }

    private func withCookies(_ request: SourceRequest, _ session: any AuthSession) -> SourceRequest {
        var request = request
        if let cookies = jar.cookieHeader(for: request, now: session.clock.wallClock) {
            request.setHeader("Cookie", cookies)
        }
        return request
    }

    /// Calls the refresh endpoint; `false` when the server refused it (401/403).
    private func refreshSession(_ session: any AuthSession) async throws(SourceError) -> Bool {
        guard let refresh else { return false }
        let request = withCookies(session.request(refresh.method, refresh.path), session)
        let response = try await session.perform(request)
        state.withLock { $0.refreshes += 1 }
        jar.store(from: response, of: request, now: session.clock.wallClock)
        if response.status == 401 || response.status == 403 { return false }
        if let error = SourceError.from(response, secrets: secrets, now: session.clock.wallClock) { throw error }
        state.withLock { $0.answer = response }
        return true
    }

    private func logIn(_ session: any AuthSession, force: Bool = false) async throws(SourceError) {
        try await flight.run {
            if !force, self.state.withLock({ $0.loggedIn }) { return .success(()) }
            do throws(SourceError) {
                let request = session.request(self.login.method, self.login.path, body: self.login.body)
                let response = try await session.perform(request)
                self.state.withLock { $0.logins += 1 }
                if let error = SourceError.from(response, secrets: self.secrets, now: session.clock.wallClock) {
                    throw error
                }
                self.jar.store(from: response, of: request, now: session.clock.wallClock)
                self.state.withLock { state in
                    state.loggedIn = true
                    state.answer = response
                }
                return .success(())
            } catch {
                self.state.withLock { $0.loggedIn = false }
                return .failure(error)
            }
        }
    }
}
