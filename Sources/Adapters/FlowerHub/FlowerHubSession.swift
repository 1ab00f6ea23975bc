import BridgeCore
import Logging
import SourceKit
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The FlowerHub portal's cookie session (FIELD-NOTES, "FlowerHub portal"), as an ``AuthStrategy``.
///
/// - The first request logs in (`POST /auth/login`, JSON `username`/`password`); the answer sets the
///   `Authentication` and `Refresh` cookies, kept in a ``CookieJar``. The jar sends `Secure` cookies
///   over https, and to loopback hosts over plain http too (a local simulator).
/// - When the jar has dropped the `Authentication` cookie (its `Max-Age` passed): before the
///   request, `GET /auth/refresh-token` while it holds `Refresh`, a login once that has gone too;
///   so a routine expiry costs no 401.
/// - On a 401: `GET /auth/refresh-token` and the request is resent once; if the refresh is refused
///   or the resent request gets 401 again, one login and one more resend; a third 401 is
///   ``SourceError/unauthorized``.
/// - Never a login storm: concurrent requests that meet the same expiry share one refresh or login
///   (a request whose cookies are already stale is just resent), and after a refused login, or a
///   login that did not help, no login is tried again for a backoff (1 minute, doubling to 1 hour);
///   until then requests fail at once with ``SourceError/unauthorized``, without a call.
/// - A 429 to a login or refresh closes the rate budget for its `Retry-After`, like any other 429.
/// - Logs carry no password, no cookie value: only counts and paths.
public final class FlowerHubSession: AuthStrategy {
    public static let loginPath = "/auth/login"
    public static let refreshPath = "/auth/refresh-token"
    /// The portal's access cookie, renewed by a refresh.
    static let accessCookie = "Authentication"
    /// The portal's refresh cookie, renewed by a login.
    static let refreshCookie = "Refresh"

    private struct State {
        var loggedIn = false
        var answer: SourceResponse?
        var logins = 0
        var refreshes = 0
        /// No login before this (after a refused or useless login).
        var loginBlockedUntil: ContinuousClock.Instant?
        var loginBackoff: Duration = .zero
        /// The last login or refresh left an access cookie in the jar: once the jar drops it (its
        /// Max-Age passed), a refresh is due before the next request. Without one (a portal whose
        /// cookies are named otherwise), renewal waits for the 401.
        var accessCookieHeld = false
        /// The last login left a refresh cookie in the jar: once the jar drops it (and the access
        /// cookie), a login is due before the next request.
        var refreshCookieHeld = false
        /// Successful logins and refreshes so far.
        var renewals = 0
        var renewal: Task<Result<Void, SourceError>, Never>?
    }

    /// The cookies of this session.
    public let jar = CookieJar()
    private let username: Credential
    private let password: Credential
    private let budget: RateBudget?
    private let clock: any SourceClock
    private let logger: Logger
    private let state = Mutex(State())

    /// The first pause after a refused login; it doubles up to ``maximumLoginBackoff``.
    public static let minimumLoginBackoff: Duration = .seconds(60)
    /// The longest pause between logins that do not work.
    public static let maximumLoginBackoff: Duration = .seconds(3600)

    /// Creates the session; nothing is sent until the first request.
    /// - Parameters:
    ///   - budget: the source's rate budget, closed by a 429 to a login or refresh.
    ///   - clock: the time cookie lifetimes are counted on (the HTTP client's).
    public init(
        username: Credential, password: Credential, budget: RateBudget? = nil, clock: any SourceClock = SystemSourceClock(),
        logger: Logger
    ) {
        self.username = username
        self.password = password
        self.budget = budget
        self.clock = clock
        self.logger = logger
    }

    /// How many logins and refreshes have been sent.
    public var counts: (logins: Int, refreshes: Int) { state.withLock { ($0.logins, $0.refreshes) } }

    /// The credentials and every cookie value, scrubbed from anything a server sends back.
    public var secrets: [Credential] { [username, password] + jar.values }

    public func authorize(_ request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> SourceRequest {
        if !state.withLock({ $0.loggedIn }) {
            try await renew(.login, using: session)
        } else if let due = dueRenewal(for: request, session) {
            // A cookie's Max-Age has passed: the portal would answer 401, so renew first (unless
            // another request's renewal ended since the jar was looked at).
            try await renew(due.kind, unlessRenewedSince: due.renewals, using: session)
        }
        var request = request
        if let cookies = jar.cookieHeader(for: request, now: session.clock.wallClock) {
            request.setHeader("Cookie", cookies)
        }
        return request
    }

    /// The renewal the jar says is due before `request`: a refresh once it has dropped the
    /// access cookie, a login once it has dropped the refresh cookie too; `nil` while the access
    /// cookie lives, or when the portal never set the cookie that is missing (then the 401 decides).
    private func dueRenewal(for request: SourceRequest, _ session: any AuthSession) -> (kind: Renewal, renewals: Int)? {
        let (accessHeld, refreshHeld, renewals) = state.withLock { ($0.accessCookieHeld, $0.refreshCookieHeld, $0.renewals) }
        guard accessHeld, !has(Self.accessCookie, for: request, session) else { return nil }
        if has(Self.refreshCookie, for: request, session) { return (.refresh, renewals) }
        return refreshHeld ? (.login, renewals) : nil
    }

    /// Whether the jar would send the cookie `name` with `request` now.
    private func has(_ name: String, for request: SourceRequest, _ session: any AuthSession) -> Bool {
        Self.cookies(jar.cookieHeader(for: request, now: session.clock.wallClock)).contains { $0.hasPrefix(name + "=") }
    }

    public func observe(_ response: SourceResponse, of request: SourceRequest) async {
        jar.store(from: response, of: request, now: clock.wallClock)
        if response.isSuccess {
            // The session works: a later refused login starts its backoff from the beginning.
            state.withLock { $0.loginBackoff = .zero }
        }
    }

    public func recover(
        fromUnauthorized attempt: Int,
        request: SourceRequest,
        using session: any AuthSession
    ) async throws(SourceError) -> Bool {
        // Logins are paused after one that did not help: report the 401, send nothing more.
        if let until = state.withLock({ $0.loginBlockedUntil }), session.clock.now < until {
            return false
        }
        // Another request renewed the session after this one was sent: resend with the new cookies.
        let renewals = state.withLock { $0.renewals }
        if attempt < 3, Self.cookies(request.header("Cookie")) != Self.cookies(jar.cookieHeader(for: request, now: session.clock.wallClock)) {
            return true
        }
        switch attempt {
        case 1:
            // Nothing new starts when another request's renewal ended since the jar was compared.
            try await renew(.refresh, unlessRenewedSince: renewals, using: session)
            return true
        case 2:
            try await renew(.login, using: session)
            return true
        default:
            // A fresh login and still 401: logging in again would not help for a while.
            blockLogins(session, reason: "the portal refused requests right after a login")
            return false
        }
    }

    public func establishSession(using session: any AuthSession) async throws(SourceError) -> SourceResponse? {
        if !state.withLock({ $0.loggedIn }) {
            try await renew(.login, using: session)
        }
        return state.withLock { $0.answer }
    }

    /// The `name=value` pairs of a `Cookie` header, in any order.
    private static func cookies(_ header: String?) -> Set<Substring> {
        Set((header ?? "").split(separator: ";").map { $0.drop { $0 == " " } })
    }

    // MARK: Renewal

    private enum Renewal { case login, refresh }

    /// Runs a refresh (falling back to a login when it is refused) or a login; concurrent callers
    /// share the one in flight.
    /// - Parameter since: with a count of ``State/renewals``, nothing new starts once a renewal
    ///   has ended after that count was read (the caller's view of the jar is out of date).
    private func renew(_ kind: Renewal, unlessRenewedSince since: Int? = nil, using session: any AuthSession) async throws(SourceError) {
        let task: Task<Result<Void, SourceError>, Never>? = state.withLock { state in
            if let running = state.renewal { return running }
            if let since, state.renewals != since { return nil }
            let task = Task { () -> Result<Void, SourceError> in
                let result: Result<Void, SourceError>
                do throws(SourceError) {
                    if kind == .refresh, try await self.refresh(using: session) {
                        result = .success(())
                    } else {
                        try await self.logIn(using: session)
                        result = .success(())
                    }
                } catch {
                    result = .failure(error)
                }
                self.state.withLock { state in
                    state.renewal = nil
                    if case .success = result { state.renewals += 1 }
                }
                return result
            }
            state.renewal = task
            return task
        }
        guard let task else { return }
        try await task.value.get()
    }

    /// `GET /auth/refresh-token`; `false` when the portal refused it (the refresh cookie expired).
    private func refresh(using session: any AuthSession) async throws(SourceError) -> Bool {
        var request = session.request(.get, Self.refreshPath)
        if let cookies = jar.cookieHeader(for: request, now: session.clock.wallClock) {
            request.setHeader("Cookie", cookies)
        }
        let response = try await session.perform(request)
        state.withLock { $0.refreshes += 1 }
        jar.store(from: response, of: request, now: session.clock.wallClock)
        noteCookies(response, of: request, session, login: false)
        if response.status == 401 || response.status == 403 {
            logger.debug("Session refresh refused; logging in again")
            return false
        }
        try await check(response, session)
        state.withLock { $0.answer = response }
        logger.debug("Session refreshed")
        return true
    }

    /// `POST /auth/login`, unless logins are blocked after a refusal.
    private func logIn(using session: any AuthSession) async throws(SourceError) {
        let now = session.clock.now
        if let until = state.withLock({ $0.loginBlockedUntil }), now < until {
            throw .unauthorized
        }
        let body = JSONValue.object(["username": .string(username.revealed), "password": .string(password.revealed)])
        let request = session.request(.post, Self.loginPath, body: .json(bytes: body.jsonBytes))
        let response = try await session.perform(request)
        state.withLock { $0.logins += 1 }
        if [400, 401, 403].contains(response.status) {
            state.withLock { $0.loggedIn = false }
            blockLogins(session, reason: "the portal refused the login (HTTP \(response.status))")
            throw .unauthorized
        }
        try await check(response, session)
        jar.removeAll()
        jar.store(from: response, of: request, now: session.clock.wallClock)
        noteCookies(response, of: request, session, login: true)
        state.withLock { state in
            state.loggedIn = true
            state.answer = response
            state.loginBlockedUntil = nil
        }
        logger.info("Logged in to the FlowerHub portal")
    }

    /// Records whether the jar holds the access cookie after a successful login or refresh, and
    /// the refresh cookie after a login. Only their expiry (or the portal deleting them) takes
    /// them out of the jar again.
    private func noteCookies(_ response: SourceResponse, of request: SourceRequest, _ session: any AuthSession, login: Bool) {
        guard response.isSuccess else { return }
        let access = has(Self.accessCookie, for: request, session)
        let refresh = has(Self.refreshCookie, for: request, session)
        state.withLock { state in
            state.accessCookieHeld = access
            if login { state.refreshCookieHeld = refresh }
        }
    }

    /// Throws the error a non-2xx answer stands for; a 429 also closes the budget.
    private func check(_ response: SourceResponse, _ session: any AuthSession) async throws(SourceError) {
        if response.status == 429, let budget {
            let pause = await budget.penalize(retryAfter: response.retryAfter(now: session.clock.wallClock))
            throw .rateLimited(retryAfter: pause)
        }
        if let error = SourceError.from(response, secrets: secrets, now: session.clock.wallClock) { throw error }
    }

    private func blockLogins(_ session: any AuthSession, reason: String) {
        let pause = state.withLock { state in
            state.loginBackoff = state.loginBackoff == .zero
                ? Self.minimumLoginBackoff : min(state.loginBackoff * 2, Self.maximumLoginBackoff)
            state.loginBlockedUntil = session.clock.now + state.loginBackoff
            return state.loginBackoff
        }
        logger.warning("FlowerHub login paused", metadata: ["reason": "\(reason)", "retry.delay_ms": "\(pause.components.seconds * 1000)"])
    }
}
