/// Why reading from or calling a source failed.
///
/// One enum for every transport failure, so adapters and the source supervisor can match on
/// it. ``isRetryable`` separates "try again later" from "needs the operator" (evcc's
/// permanent-vs-retry split), and ``description`` is one line that never contains a credential:
/// messages taken from server bodies are shortened to one line and scrubbed of the source's
/// secrets before they are stored here.
public enum SourceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 401: the credentials were rejected, after the auth strategy's refresh/re-login attempts.
    case unauthorized
    /// 403: authenticated, but not allowed to do this.
    case forbidden
    /// 404: the resource does not exist.
    case notFound
    /// 429, or the local rate budget is exhausted; `retryAfter` is when to try again, if known.
    case rateLimited(retryAfter: Duration?)
    /// 5xx: the server (or the device behind it) is unavailable; `message` is from its body.
    case unavailable(status: Int, message: String?)
    /// Any other unexpected HTTP status (4xx, 3xx); `message` is from the body.
    case http(status: Int, message: String?)
    /// No complete answer (or, on a stream, no data) within the time allowed.
    case timeout(after: Duration)
    /// The connection could not be made or broke: refused, reset, DNS, TLS verification.
    case connection(String)
    /// The answer arrived but is not what the API promises (bad JSON, a missing field).
    case malformedResponse(String)
    /// The response body exceeded the size limit, in bytes; reading stopped there.
    case tooLarge(limit: Int)
    /// A server-sent-event stream or WebSocket ended (or was closed abnormally by the peer).
    case streamEnded
    /// The task waiting for the answer was cancelled.
    case cancelled
    /// The request could not be built (a bad path or URL); a caller bug, never retried.
    case invalidRequest(String)
    /// The source or this library does not support the operation.
    case notSupported(String)

    /// Whether trying the same thing again later may succeed without anyone changing anything.
    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .unavailable, .timeout, .connection, .streamEnded:
            true
        case .http(let status, _):
            status == 408
        case .unauthorized, .forbidden, .notFound, .malformedResponse, .tooLarge, .cancelled, .invalidRequest,
            .notSupported:
            false
        }
    }

    /// The HTTP status behind this error, if it came from a response.
    public var status: Int? {
        switch self {
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .rateLimited: 429
        case .unavailable(let status, _), .http(let status, _): status
        default: nil
        }
    }

    /// One line for logs, `bridge/sources` and command results; never contains a credential.
    public var description: String {
        switch self {
        case .unauthorized:
            return "unauthorized (HTTP 401): credentials rejected"
        case .forbidden:
            return "forbidden (HTTP 403)"
        case .notFound:
            return "not found (HTTP 404)"
        case .rateLimited(let retryAfter):
            guard let retryAfter else { return "rate limited" }
            return "rate limited, retry after \(Self.format(retryAfter))"
        case .unavailable(let status, let message):
            return "unavailable (HTTP \(status))" + Self.suffix(message)
        case .http(let status, let message):
            return "HTTP \(status)" + Self.suffix(message)
        case .timeout(let after):
            return "timed out after \(Self.format(after))"
        case .connection(let reason):
            return "connection failed: \(reason)"
        case .malformedResponse(let reason):
            return "malformed response: \(reason)"
        case .tooLarge(let limit):
            return "response larger than \(limit) bytes"
        case .streamEnded:
            return "stream ended"
        case .cancelled:
            return "cancelled"
        case .invalidRequest(let reason):
            return "invalid request: \(reason)"
        case .notSupported(let what):
            return "not supported: \(what)"
        }
    }

    /// This error with every given secret replaced by `***` in its messages.
    public func redacting(_ secrets: [Credential]) -> SourceError {
        guard !secrets.isEmpty else { return self }
        switch self {
        case .unavailable(let status, let message):
            return .unavailable(status: status, message: message?.redacting(secrets))
        case .http(let status, let message):
            return .http(status: status, message: message?.redacting(secrets))
        case .connection(let reason):
            return .connection(reason.redacting(secrets))
        case .malformedResponse(let reason):
            return .malformedResponse(reason.redacting(secrets))
        case .invalidRequest(let reason):
            return .invalidRequest(reason.redacting(secrets))
        case .notSupported(let what):
            return .notSupported(what.redacting(secrets))
        default:
            return self
        }
    }

    private static func suffix(_ message: String?) -> String {
        guard let message, !message.isEmpty else { return "" }
        return ": " + message
    }

    /// Renders a duration as `250 ms`, `10 s` or `1.5 s`.
    static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        let tenths = (milliseconds + 50) / 100
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
