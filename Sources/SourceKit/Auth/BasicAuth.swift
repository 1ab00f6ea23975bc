#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HTTP Basic authentication (RFC 7617), as TinyBMS offers optionally.
public struct BasicAuth: AuthStrategy {
    /// The user name (not secret).
    public let username: String
    /// The password.
    public let password: Credential

    /// Creates the strategy.
    public init(username: String, password: Credential) {
        self.username = username
        self.password = password
    }

    /// Adds `Authorization: Basic base64(user:password)`.
    public func authorize(_ request: SourceRequest, using session: any AuthSession) async throws(SourceError) -> SourceRequest {
        var request = request
        let token = Data("\(username):\(password.revealed)".utf8).base64EncodedString()
        request.setHeader("Authorization", "Basic \(token)")
        return request
    }

    /// The password and the encoded header value.
    public var secrets: [Credential] {
        [password, Credential(Data("\(username):\(password.revealed)".utf8).base64EncodedString())]
    }
}
