#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension SourceError {
    /// The error a non-2xx response stands for, with a readable message from its body.
    ///
    /// 401 → ``unauthorized``, 403 → ``forbidden``, 404 → ``notFound``, 429 →
    /// ``rateLimited(retryAfter:)`` (from `Retry-After`), 5xx → ``unavailable(status:message:)``,
    /// anything else → ``http(status:message:)``. The message is scrubbed of `secrets`.
    ///
    /// - Returns: `nil` for a 2xx or 304 response.
    public static func from(_ response: SourceResponse, secrets: [Credential] = [], now: Date = Date()) -> SourceError? {
        switch response.status {
        case 200..<300, 304:
            return nil
        case 401:
            return .unauthorized
        case 403:
            return .forbidden
        case 404:
            return .notFound
        case 429:
            return .rateLimited(retryAfter: response.retryAfter(now: now))
        case 500..<600:
            return .unavailable(status: response.status, message: message(response, secrets))
        default:
            return .http(status: response.status, message: message(response, secrets))
        }
    }

    private static func message(_ response: SourceResponse, _ secrets: [Credential]) -> String? {
        ErrorBody.message(from: response.body)?.redacting(secrets)
    }
}
