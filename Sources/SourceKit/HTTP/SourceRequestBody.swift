#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A request body and its Content-Type.
public struct SourceRequestBody: Sendable, Hashable {
    /// The encoded bytes.
    public var bytes: [UInt8]
    /// The value of the Content-Type header.
    public var contentType: String

    /// A body of raw bytes with the given Content-Type.
    public init(bytes: [UInt8], contentType: String) {
        self.bytes = bytes
        self.contentType = contentType
    }

    /// Already-encoded JSON.
    public static func json(bytes: [UInt8]) -> SourceRequestBody {
        SourceRequestBody(bytes: bytes, contentType: "application/json")
    }

    /// A value encoded as JSON.
    /// - Throws: ``SourceError/invalidRequest(_:)`` when the value cannot be encoded.
    public static func json(_ value: some Encodable) throws(SourceError) -> SourceRequestBody {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return .json(bytes: Array(try encoder.encode(value)))
        } catch {
            throw .invalidRequest("body cannot be encoded as JSON")
        }
    }

    /// Fields encoded as `application/x-www-form-urlencoded`.
    public static func form(_ fields: [(name: String, value: String)]) -> SourceRequestBody {
        let text = fields.map { PercentEncoding.formEncode($0.name) + "=" + PercentEncoding.formEncode($0.value) }
            .joined(separator: "&")
        return SourceRequestBody(bytes: Array(text.utf8), contentType: "application/x-www-form-urlencoded")
    }

    /// Plain UTF-8 text (`text/plain; charset=utf-8`).
    public static func text(_ text: String) -> SourceRequestBody {
        SourceRequestBody(bytes: Array(text.utf8), contentType: "text/plain; charset=utf-8")
    }
}
