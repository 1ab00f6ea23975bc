import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Logs in with credentials, reads a token from the answer and sends it as
/// `Authorization: Bearer <token>` (Fritz!Box JWT login, OCPP CSMS `/users/authenticate`).
///
/// - The login runs on the first request, and again shortly before a known expiry
///   (`expires_in`-style key, or the JWT `exp` claim), so requests don't hit an expired token.
/// - On a 401 it logs in again and the request is resent once; a second 401 is reported as
///   ``SourceError/unauthorized``. A 401 to a request sent with an older token does not
///   log in again when a newer token exists, so concurrent failures cause one login — this
///   matters for the CSMS, where every login replaces the account's previous token.
/// - Concurrent requests share one login.
public final class LoginBearerAuth: AuthStrategy {
    /// Where the token and its lifetime are found in the login answer.
    public struct Options: Sendable {
        /// Dotted key path of the token in the JSON answer (`token`, `access_token`, `data.token`).
        public var tokenKeyPath: String
        /// Dotted key path of the lifetime in seconds, if the API sends one (`expires_in`).
        public var expiresInKeyPath: String?
        /// Whether to read the expiry from the token's JWT `exp` claim when no lifetime is sent.
        public var readsJWTExpiry: Bool
        /// Lifetime to assume when the answer says nothing; `nil` means "until a 401".
        public var assumedLifetime: Duration?
        /// How long before the expiry a new token is fetched (at most half the lifetime).
        public var renewBefore: Duration

        /// Creates options.
        public init(
            tokenKeyPath: String = "token",
            expiresInKeyPath: String? = nil,
            readsJWTExpiry: Bool = true,
            assumedLifetime: Duration? = nil,
            renewBefore: Duration = .seconds(60)
        ) {
            self.tokenKeyPath = tokenKeyPath
            self.expiresInKeyPath = expiresInKeyPath
            self.readsJWTExpiry = readsJWTExpiry
            self.assumedLifetime = assumedLifetime
            self.renewBefore = renewBefore
        }
    }

    private struct State {
        var token: Credential?
        var renewAt: ContinuousClock.Instant?
        var answer: SourceResponse?
        var logins = 0
    }

    /// The login call.
    public let login: LoginForm
    /// Where the token is found.
    public let options: Options
    private let state = Mutex(State())
    private let flight = SingleFlight<Credential>()

    /// Creates the strategy; nothing is sent until the first request.
    public init(login: LoginForm, options: Options = Options()) {
        self.login = login
        self.options = options
    }

    /// How many logins have been sent (for tests and health reporting).
    public var loginCount: Int { state.withLock { $0.logins } }

    /// The login fields and the current token.
    public var secrets: [Credential] {
        login.secrets + (state.withLock { $0.token }.map { [$0] } ?? [])
    }

    /// Adds `Authorization: Bearer <token>`, logging in first when there is no fresh token.
    public func authorize(_ request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> SourceRequest {
        let token = try await currentToken(session)
        var request = request
        request.setHeader("Authorization", "Bearer \(token.revealed)")
        return request
    }

    /// Logs in again after the first 401 (unless a newer token already exists) and resends once.
    public func recover(
        fromUnauthorized attempt: Int,
        request: SourceRequest,
        using session: any AuthSession
    ) async throws(SourceError) -> Bool {
        guard attempt == 1 else { return false }
        let sent = request.header("Authorization")
        state.withLock { state in
            if let token = state.token, sent == "Bearer \(token.revealed)" {
                state.token = nil
            }
        }
        _ = try await currentToken(session)
        return true
    }

    /// Logs in if needed and returns the login answer.
    public func establishSession(using session: any AuthSession) async throws(SourceError) -> SourceResponse? {
        _ = try await currentToken(session)
        return state.withLock { $0.answer }
    }

    private func currentToken(_ session: any AuthSession) async throws(SourceError) -> Credential {
        let now = session.clock.now
        let fresh: Credential? = state.withLock { state in
            guard let token = state.token else { return nil }
            if let renewAt = state.renewAt, now >= renewAt { return nil }
            return token
        }
        if let fresh { return fresh }
        return try await flight.run { await self.performLogin(session) }
    }

    private func performLogin(_ session: any AuthSession) async -> Result<Credential, SourceError> {
        do throws(SourceError) {
            let response = try await session.perform(session.request(login.method, login.path, body: login.body))
            if let error = SourceError.from(response, secrets: login.secrets, now: session.clock.wallClock) {
                throw error
            }
            let json = try JSONNode.parse(response.body)
            guard let text = json.value(at: options.tokenKeyPath)?.text, !text.isEmpty else {
                throw .malformedResponse("login answer has no token at '\(options.tokenKeyPath)'")
            }
            let token = Credential(text)
            let lifetime = lifetime(of: json, token: token, now: session.clock.wallClock)
            let renewAt = lifetime.map { lifetime in
                session.clock.now + max(.zero, lifetime - min(options.renewBefore, lifetime / 2))
            }
            state.withLock { state in
                state.token = token
                state.renewAt = renewAt
                state.answer = response
                state.logins += 1
            }
            return .success(token)
        } catch {
            return .failure(error)
        }
    }

    private func lifetime(of answer: JSONNode, token: Credential, now: Date) -> Duration? {
        if let keyPath = options.expiresInKeyPath, let seconds = answer.value(at: keyPath)?.seconds {
            return .milliseconds(Int64(max(0, seconds) * 1000))
        }
        if options.readsJWTExpiry, let expiry = JWTClaims.expiry(of: token.revealed) {
            return .milliseconds(Int64(max(0, expiry.timeIntervalSince(now)) * 1000))
        }
        return options.assumedLifetime
    }
}
