/// A fixed bearer token (Cozify's optional token, a configured CSMS token).
public struct BearerTokenAuth: AuthStrategy {
    /// The token.
    public let token: Credential

    /// Creates the strategy.
    public init(token: Credential) {
        self.token = token
    }

    /// Adds `Authorization: Bearer <token>`.
    public func authorize(_ request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> SourceRequest {
        var request = request
        request.setHeader("Authorization", "Bearer \(token.revealed)")
        return request
    }

    /// The token.
    public var secrets: [Credential] { [token] }
}
