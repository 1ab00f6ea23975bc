#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One cookie as parsed from a `Set-Cookie` header (RFC 6265 §5.2, the parts a client needs).
struct SetCookie: Sendable, Hashable {
    var name: String
    var value: String
    /// Lower-cased domain without a leading dot; the request host when no Domain was given.
    var domain: String
    /// Whether the cookie goes only to exactly ``domain`` (no Domain attribute).
    var hostOnly: Bool
    var path: String
    var secure: Bool
    var httpOnly: Bool
    /// When the cookie expires; `nil` for a session cookie.
    var expires: Date?

    /// Parses a header received from `host` for a request to `requestPath`; `now` resolves Max-Age.
    init?(header: String, host: String, requestPath: String, now: Date) {
        let parts = header.split(separator: ";", omittingEmptySubsequences: false)
        guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { return nil }
        name = pair[..<equals].trimmingOptionalWhitespace()
        value = pair[pair.index(after: equals)...].trimmingOptionalWhitespace()
        guard !name.isEmpty else { return nil }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast())
        }
        domain = host
        hostOnly = true
        path = Self.defaultPath(requestPath)
        secure = false
        httpOnly = false
        var maxAge: Int?
        for attribute in parts.dropFirst() {
            let pieces = attribute.split(separator: "=", maxSplits: 1)
            let key = pieces.first.map { $0.trimmingOptionalWhitespace().lowercased() } ?? ""
            let argument = pieces.count > 1 ? pieces[1].trimmingOptionalWhitespace() : ""
            switch key {
            case "domain" where !argument.isEmpty:
                var domain = argument.lowercased()
                if domain.hasPrefix(".") { domain.removeFirst() }
                // A server may only set cookies for itself or a parent domain of itself.
                guard host == domain || host.hasSuffix("." + domain) else { return nil }
                self.domain = domain
                hostOnly = false
            case "path" where argument.hasPrefix("/"):
                path = argument
            case "secure":
                secure = true
            case "httponly":
                httpOnly = true
            case "max-age":
                maxAge = Int(argument)
            case "expires":
                expires = HTTPDate.parse(argument)
            default:
                break
            }
        }
        if let maxAge {
            // Max-Age wins over Expires; zero or negative deletes the cookie.
            expires = now.addingTimeInterval(TimeInterval(max(maxAge, -1)))
        }
    }

    /// Whether the cookie belongs in a request to `host` + `path`.
    func matches(host: String, path requestPath: String) -> Bool {
        let domainMatches = hostOnly ? host == domain : (host == domain || host.hasSuffix("." + domain))
        guard domainMatches else { return false }
        if requestPath == path { return true }
        guard requestPath.hasPrefix(path) else { return false }
        return path.hasSuffix("/") || requestPath.dropFirst(path.count).hasPrefix("/")
    }

    /// Whether the cookie has expired at `now`.
    func isExpired(at now: Date) -> Bool {
        guard let expires else { return false }
        return expires <= now
    }

    private static func defaultPath(_ requestPath: String) -> String {
        guard requestPath.hasPrefix("/"), let slash = requestPath.lastIndex(of: "/"), slash != requestPath.startIndex else {
            return "/"
        }
        return String(requestPath[..<slash])
    }
}
