/// What a failed read means to the supervisor, so that it neither turns a source offline for
/// something that only asks it to wait nor waits an hour for data that is about to come.
///
/// Adapters throw any error; the supervisor asks it for its ``SourceFailureConvertible/sourceFailure``
/// (SourceKit's `SourceError` conforms in the Adapters module) and treats anything else as
/// ``failed(_:)``.
public enum SourceFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The device answered but has nothing yet (a meter reader warming up answers 503 until its
    /// first telegram). Not a failure: the endpoint is read again soon, with backoff, until it
    /// answers, instead of at its next scheduled time.
    case noDataYet(String)
    /// Rate limited (HTTP 429, or the source's own request budget is spent): come back after
    /// `retryAfter`. Not a failure: the source stays available.
    case rateLimited(retryAfter: Duration?)
    /// The credentials were rejected after the adapter's own re-authentication: counts as a
    /// failure, and says so.
    case unauthorized(String)
    /// Anything else: counts toward the source going offline.
    case failed(String)

    /// One line for logs and `bridge/sources`; never contains a credential.
    public var description: String {
        switch self {
        case .noDataYet(let reason): "no data yet: \(reason)"
        case .rateLimited(let retryAfter?): "rate limited, retry after \(retryAfter)"
        case .rateLimited(nil): "rate limited"
        case .unauthorized(let reason): reason
        case .failed(let reason): reason
        }
    }

    /// The classification of any error an adapter throws.
    public init(classifying error: any Error) {
        switch error {
        case let failure as SourceFailure: self = failure
        case let convertible as any SourceFailureConvertible: self = convertible.sourceFailure
        default: self = .failed(String(describing: error))
        }
    }
}

/// An error that knows what it means to the supervisor.
public protocol SourceFailureConvertible: Error {
    var sourceFailure: SourceFailure { get }
}
