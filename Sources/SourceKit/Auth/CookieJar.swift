import NIOHTTP1
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Stores cookies a source sets and sends them back, like a browser's jar for one source.
///
/// `Secure` cookies go only over https — except to loopback hosts (`localhost`, `127.x`,
/// `::1`), so a local simulator on plain http works with an API whose cookies are
/// `HttpOnly; Secure` (FlowerHub). `HttpOnly` does not matter to a non-browser client.
/// Cookie values are session secrets: the jar's description shows only how many it holds.
public final class CookieJar: Sendable, CustomStringConvertible {
    private let cookies = Mutex<[SetCookie]>([])

    /// Creates an empty jar.
    public init() {}

    /// The number of cookies held (expired ones included until the next use).
    public var count: Int { cookies.withLock { $0.count } }

    /// `CookieJar(<n> cookies)`.
    public var description: String { "CookieJar(\(count) cookies)" }

    /// Stores the cookies of every `Set-Cookie` header of a response to `request`.
    public func store(from response: SourceResponse, of request: SourceRequest, now: Date) {
        // Not `canonicalForm`: that would split an `Expires=Wed, 21 Oct ...` at its comma.
        let headers = response.headers["Set-Cookie"]
        store(setCookieHeaders: headers, host: request.host, path: request.path, now: now)
    }

    /// Stores cookies from raw `Set-Cookie` header values received from `host`.
    public func store(setCookieHeaders headers: [String], host: String, path: String, now: Date) {
        let parsed = headers.compactMap { SetCookie(header: $0, host: host.lowercased(), requestPath: path, now: now) }
        guard !parsed.isEmpty else { return }
        cookies.withLock { cookies in
            for cookie in parsed {
                cookies.removeAll { $0.name == cookie.name && $0.domain == cookie.domain && $0.path == cookie.path }
                if !cookie.isExpired(at: now) { cookies.append(cookie) }
            }
        }
    }

    /// The `Cookie` header value for a request, or `nil` when no cookie applies.
    public func cookieHeader(for request: SourceRequest, now: Date) -> String? {
        cookieHeader(host: request.host, path: request.path, secure: request.isSecure, now: now)
    }

    /// The `Cookie` header value for `host` + `path`, or `nil` when no cookie applies.
    public func cookieHeader(host: String, path: String, secure: Bool, now: Date) -> String? {
        let host = host.lowercased()
        let secureChannel = secure || Self.isLoopback(host)
        let matching: [SetCookie] = cookies.withLock { cookies in
            cookies.removeAll { $0.isExpired(at: now) }
            return cookies.filter { (secureChannel || !$0.secure) && $0.matches(host: host, path: path) }
        }
        guard !matching.isEmpty else { return nil }
        // Longer paths first (RFC 6265 §5.4).
        return matching.sorted { $0.path.count > $1.path.count }.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    /// The values of all cookies, for scrubbing error messages.
    public var values: [Credential] {
        cookies.withLock { $0.map { Credential($0.value) } }
    }

    /// Removes every cookie (a logout, or before a fresh login).
    public func removeAll() {
        cookies.withLock { $0.removeAll() }
    }

    /// Whether `host` is a loopback name or address.
    static func isLoopback(_ host: String) -> Bool {
        // The host without the brackets around an IPv6 literal (`[::1]`).
        let bracket: (Character) -> Bool = { $0 == "[" || $0 == "]" }
        var bare = Substring(host)
        while let first = bare.first, bracket(first) { bare.removeFirst() }
        while let last = bare.last, bracket(last) { bare.removeLast() }
        return bare == "localhost" || bare.hasSuffix(".localhost") || bare.hasPrefix("127.") || bare == "::1"
    }
}
