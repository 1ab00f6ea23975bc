#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension JSONValue {
    /// Why bytes from a device could not be read as JSON.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong, with the position when the parser gave one ("Unexpected character 'x' around line 1, column 3").
        public let reason: String

        /// Creates an error with a reason.
        public init(reason: String) {
            self.reason = reason
        }

        /// `malformed JSON: <reason>`.
        public var description: String { "malformed JSON: \(reason)" }
    }

    /// Parses UTF-8 JSON; top-level scalars are accepted.
    ///
    /// - Throws: ``ParseError`` naming what is wrong and, where known, where.
    public static func parse(_ bytes: some Sequence<UInt8>) throws(ParseError) -> JSONValue {
        try JSONValue(parsing: bytes)
    }
}

extension JSONValue {
    /// Parses a JSON document: an object, an array, or a single scalar.
    ///
    /// - Parameter bytes: UTF-8 JSON text, such as an HTTP body or a WebSocket text frame.
    /// - Throws: ``ParseError`` naming what is wrong and, where known, where.
    public init(parsing bytes: some Sequence<UInt8>) throws(ParseError) {
        var parser = JSONParser(Array(bytes))
        self = try parser.parseDocument()
    }

    /// Parses JSON text.
    ///
    /// - Throws: ``ParseError`` naming what is wrong.
    public init(parsing text: String) throws(ParseError) {
        try self.init(parsing: Array(text.utf8))
    }
}

extension JSONValue {
    /// Reads an MQTT command payload: JSON when it parses as JSON (`21`, `true`, `"x"`,
    /// `{"a":1}`), otherwise the text itself as a string (`ON`, `Hard`).
    public init(mqttPayload text: String) {
        let trimmed = text.trimmingWhitespace(newlines: true)
        if let value = try? JSONValue(parsing: trimmed) {
            self = value
        } else {
            self = .string(text)
        }
    }
}

extension JSONValue {
    /// A decimal number written as text, the way JSON writes numbers (a leading `+`, leading
    /// zeros and surrounding spaces are allowed): `21`, `-0.5`, `+3`, `1.6e1`, `.5`. Nil for
    /// anything else — hexadecimal (`0x10`, `0x1p3`), `NaN`, `inf`, digit separators, other
    /// scripts' digits, trailing text — and for a number beyond a Double's range (`1e309`).
    public static func decimalNumber(_ text: some StringProtocol) -> Double? {
        let trimmed = text.trimmingWhitespace()
        let bytes = Array(trimmed.utf8)
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        var mantissa = digits()
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            mantissa += digits()
        }
        guard mantissa > 0 else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            guard digits() > 0 else { return nil }
        }
        guard index == bytes.count, let number = Double(trimmed), number.isFinite else { return nil }
        return number
    }
}
