import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One HTTP request to a source, after the path has been resolved against the base URL.
///
/// Auth strategies receive it to add their headers; ``SourceHTTPClient`` builds it.
public struct SourceRequest: Sendable {
    /// HTTP request methods.
    public enum Method: String, Sendable, Hashable {
        case get = "GET"
        case head = "HEAD"
        case post = "POST"
        case put = "PUT"
        case patch = "PATCH"
        case delete = "DELETE"

        /// Whether repeating the request has no further effect (RFC 9110 §9.2.2).
        public var isIdempotent: Bool {
            switch self {
            case .get, .head, .put, .delete: true
            case .post, .patch: false
            }
        }
    }

    /// The method.
    public var method: Method
    /// The absolute URL, query included.
    public var url: String
    /// The request headers.
    public var headers: HTTPHeaders
    /// The body bytes, if any (its Content-Type is in ``headers``).
    public var body: [UInt8]?

    /// Creates a request.
    public init(method: Method, url: String, headers: HTTPHeaders = [:], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name` (case-insensitive), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first(name: name)
    }

    /// Sets the header `name` to `value`, replacing earlier values.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.replaceOrAdd(name: name, value: value)
    }

    /// The URL's host (lower-cased), or an empty string.
    public var host: String {
        URLComponents(string: url)?.host?.lowercased() ?? ""
    }

    /// The URL's path without the query, `/` when empty. Safe to log.
    public var path: String {
        let path = URLComponents(string: url)?.path ?? "/"
        return path.isEmpty ? "/" : path
    }

    /// Whether the URL uses TLS (`https`/`wss`).
    public var isSecure: Bool {
        url.lowercased().hasPrefix("https:") || url.lowercased().hasPrefix("wss:")
    }
}
