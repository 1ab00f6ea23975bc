#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A source's base URL and how request paths are resolved against it.
///
/// `http://10.0.0.5/api` + `/status` → `http://10.0.0.5/api/status`. A path that is already an
/// absolute `http(s)://` URL is used as it is.
public struct SourceURL: Sendable, Hashable, CustomStringConvertible {
    /// The base URL without a trailing slash.
    public let base: String
    /// Whether the base URL is `https`.
    public let isSecure: Bool

    /// Validates a base URL.
    /// - Throws: ``SourceError/invalidRequest(_:)`` unless it is an `http`/`https` URL with a host.
    public init(_ base: String) throws(SourceError) {
        guard let components = URLComponents(string: base), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw .invalidRequest("base URL must be http(s)://host[:port][/prefix]")
        }
        guard components.query == nil, components.user == nil, components.password == nil else {
            throw .invalidRequest("base URL must not carry a query or user info")
        }
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.base = trimmed
        self.isSecure = scheme == "https"
    }

    /// The base URL.
    public var description: String { base }

    /// The absolute URL for `path` with `query` appended (names and values percent-encoded).
    public func resolve(_ path: String, query: [(name: String, value: String)] = []) -> String {
        let lowered = path.lowercased()
        var url: String
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            url = path
        } else if path.isEmpty {
            url = base + "/"
        } else {
            url = base + (path.hasPrefix("/") ? path : "/" + path)
        }
        guard !query.isEmpty else { return url }
        url += (url.contains("?") ? "&" : "?") + PercentEncoding.query(query)
        return url
    }

    /// The WebSocket URL for `path`: `http` becomes `ws`, `https` becomes `wss`.
    public func webSocket(_ path: String, query: [(name: String, value: String)] = []) -> String {
        let url = resolve(path, query: query)
        if url.lowercased().hasPrefix("https://") { return "wss://" + url.dropFirst("https://".count) }
        if url.lowercased().hasPrefix("http://") { return "ws://" + url.dropFirst("http://".count) }
        return url
    }
}
