import Foundation
import Hummingbird

/// Builds the JSON answers of a simulator.
public enum JSONResponse {
    /// The encoder every simulator uses: stable key order, no escaped slashes.
    public static func makeEncoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// `value` as a JSON string.
    public static func string(_ value: some Encodable) -> String {
        let data = (try? makeEncoder().encode(value)) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// A response whose body is `value` as JSON.
    /// - Parameters:
    ///   - status: The status, 200 unless told.
    ///   - contentType: The `Content-Type`; real devices do not always send exactly `application/json`.
    public static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, contentType: String = "application/json") -> Response {
        Response(
            status: status,
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: string(value)))
        )
    }

    /// `text` broken for ``Fault/malformedJSON``: the first half of a JSON document (one that starts
    /// with `{` or `[`), which no parser accepts; other text comes back unchanged.
    public static func malformed(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return text }
        return String(decoding: bytes.prefix(max(1, bytes.count / 2)), as: UTF8.self)
    }

    /// `buffer` broken for ``Fault/malformedJSON``, like ``malformed(_:)-(String)``.
    public static func malformed(_ buffer: ByteBuffer) -> ByteBuffer {
        guard let first = buffer.readableBytesView.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            return buffer
        }
        return buffer.getSlice(at: buffer.readerIndex, length: max(1, buffer.readableBytes / 2)) ?? buffer
    }
}
