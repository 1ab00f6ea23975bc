/// No authentication: requests go out as they are (Cozify HAN reads, TinyBMS by default).
public struct NoAuth: AuthStrategy {
    /// Creates the strategy.
    public init() {}

    /// Returns the request unchanged.
    public func authorize(_ request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> SourceRequest {
        request
    }

    /// None.
    public var secrets: [Credential] { [] }
}
