import BridgeCore
import SourceKit

/// What a transport error means to the supervisor: a 429 or a spent request budget asks it to
/// wait, rejected credentials (after the auth strategy's own refresh or re-login) are an auth
/// failure, everything else a failure.
extension SourceError: SourceFailureConvertible {
    public var sourceFailure: SourceFailure {
        switch self {
        case .rateLimited(let retryAfter): .rateLimited(retryAfter: retryAfter)
        case .unauthorized: .unauthorized(description)
        default: .failed(description)
        }
    }
}
