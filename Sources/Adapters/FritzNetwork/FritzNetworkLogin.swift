import SourceKit

/// The JWT form login of the Fritz!Box network API, with its 429s charged to the source's budget.
///
/// ``LoginBearerAuth`` turns a 429 to `/auth/login` into an error but, unlike an API request, does not
/// close the ``RateBudget``: the next poll would log in again at once. This wrapper gives the inner
/// strategy a session that penalises the budget on such an answer (at least 60 s, or the server's
/// `Retry-After` when longer), so a rate-limited login backs off like any other request.
struct FritzNetworkLogin: AuthStrategy {
    let login: LoginBearerAuth
    let budget: RateBudget

    func authorize(_ request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> SourceRequest {
        try await login.authorize(request, using: BudgetedSession(inner: session, budget: budget))
    }

    func recover(fromUnauthorized attempt: Int, request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> Bool {
        try await login.recover(fromUnauthorized: attempt, request: request, using: BudgetedSession(inner: session, budget: budget))
    }

    func establishSession(using session: any AuthSession) async throws(SourceError) -> SourceResponse? {
        try await login.establishSession(using: BudgetedSession(inner: session, budget: budget))
    }

    var secrets: [Credential] { login.secrets }
}

/// An auth session whose 429 answers close the budget.
private struct BudgetedSession: AuthSession {
    let inner: any AuthSession
    let budget: RateBudget

    var baseURL: SourceURL { inner.baseURL }
    var clock: any SourceClock { inner.clock }

    func perform(_ request: SourceRequest) async throws(SourceError) -> SourceResponse {
        let response = try await inner.perform(request)
        if response.status == 429 {
            await budget.penalize(retryAfter: response.retryAfter(now: clock.wallClock))
        }
        return response
    }
}
