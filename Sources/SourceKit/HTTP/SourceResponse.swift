import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A complete answer from a source: status, headers, the whole body, and how long it took.
///
/// When a conditional GET was answered `304 Not Modified`, the response is the cached
/// document (its original status, headers and body) with ``unchanged`` set.
public struct SourceResponse: Sendable {
    /// The HTTP status code (of the cached document when ``unchanged``).
    public var status: Int
    /// The response headers.
    public var headers: HTTPHeaders
    /// The body bytes, decompressed.
    public var body: [UInt8]
    /// Whether the server answered 304 and ``body`` is the cached document.
    public var unchanged: Bool
    /// Time from sending the request to having the whole body.
    public var latency: Duration

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = [], unchanged: Bool = false, latency: Duration = .zero) {
        self.status = status
        self.headers = headers
        self.body = body
        self.unchanged = unchanged
        self.latency = latency
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The first value of the header `name` (case-insensitive), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first(name: name)
    }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    public var text: String {
        String(decoding: body, as: UTF8.self)
    }

    /// Decodes the body as JSON, whatever Content-Type the server claimed.
    /// - Throws: ``SourceError/malformedResponse(_:)`` naming the first problem, without the body.
    public func decode<T: Decodable>(_ type: T.Type = T.self, using decoder: JSONDecoder = JSONDecoder()) throws(SourceError) -> T {
        do {
            return try decoder.decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw .malformedResponse(Self.describe(error))
        } catch {
            throw .malformedResponse("body is not valid JSON")
        }
    }

    /// The `Retry-After` header as a delay from `now`: delta-seconds or an HTTP date.
    public func retryAfter(now: Date) -> Duration? {
        guard let value = header("Retry-After")?.trimmingOptionalWhitespace(), !value.isEmpty else { return nil }
        if let seconds = Int(value) {
            return .seconds(max(0, seconds))
        }
        guard let date = HTTPDate.parse(value) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return seconds > 0 ? .milliseconds(Int64((seconds * 1000).rounded(.up))) : .zero
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let rendered = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return rendered.isEmpty ? "document" : rendered
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "body is not valid JSON"
        case .dataCorrupted(let context):
            return "invalid value at \(path(context))"
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing key \(key.stringValue)" + (parent == "document" ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            return "expected \(type) at \(path(context))"
        case .valueNotFound(let type, let context):
            return "expected \(type) at \(path(context)), found null"
        @unknown default:
            return "body does not match the expected shape"
        }
    }
}
