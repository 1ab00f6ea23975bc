/// An API key sent in a header (Fritz!Box network API: `X-API-Key`).
public struct APIKeyAuth: AuthStrategy {
    /// The header name.
    public let header: String
    /// The key.
    public let key: Credential

    /// Creates the strategy; the header defaults to `X-API-Key`.
    public init(header: String = "X-API-Key", key: Credential) {
        self.header = header
        self.key = key
    }

    /// Adds `<header>: <key>`.
    public func authorize(_ request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> SourceRequest {
        var request = request
        request.setHeader(header, key.revealed)
        return request
    }

    /// The key.
    public var secrets: [Credential] { [key] }
}
