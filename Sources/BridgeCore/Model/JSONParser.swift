/// Reads RFC 8259 JSON text into a ``JSONValue`` in one pass over its bytes.
///
/// Strict where devices could mislead us: invalid UTF-8, unescaped control characters, lone
/// surrogate escapes, numbers outside a Double's range, trailing text and nesting deeper than
/// ``maximumDepth`` are errors, each with its line and column. A repeated object key keeps
/// its last value.
struct JSONParser {
    /// Deeper nesting is refused rather than risking the stack on hostile input.
    static let maximumDepth = 512

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The document's single value, followed by nothing but whitespace.
    mutating func parseDocument() throws(JSONValue.ParseError) -> JSONValue {
        skipWhitespace()
        guard position < bytes.count else { throw JSONValue.ParseError(reason: "the document is empty") }
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the document") }
        return value
    }

    private mutating func parseValue() throws(JSONValue.ParseError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of the document") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw unexpectedCharacter()
        }
    }

    private mutating func parseObject() throws(JSONValue.ParseError) -> JSONValue {
        try enter()
        position += 1  // {
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw position < bytes.count ? unexpectedCharacter() : error("unexpected end of the document") }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            members[key] = try parseValue()
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expectEnd(UInt8(ascii: "}"))
            depth -= 1
            return .object(members)
        }
    }

    private mutating func parseArray() throws(JSONValue.ParseError) -> JSONValue {
        try enter()
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expectEnd(UInt8(ascii: "]"))
            depth -= 1
            return .array(elements)
        }
    }

    /// A string starting at its opening quote; the position ends after the closing one.
    private mutating func parseString() throws(JSONValue.ParseError) -> String {
        position += 1  // "
        let start = position
        // The common case: no escapes, so the bytes are the string.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = try validated(bytes[start..<position], at: start)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("unescaped control character in a string") }
            position += 1
        }
        var decoded = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return try validated(decoded[...], at: start)
            case UInt8(ascii: "\\"):
                position += 1
                try appendEscape(to: &decoded)
            case 0..<0x20:
                throw error("unescaped control character in a string")
            default:
                decoded.append(byte)
                position += 1
            }
        }
        throw error("unterminated string")
    }

    /// Decodes the escape after a backslash (the position is on its letter).
    private mutating func appendEscape(to output: inout [UInt8]) throws(JSONValue.ParseError) {
        guard position < bytes.count else { throw error("unterminated string") }
        let letter = bytes[position]
        position += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(letter)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hexQuad()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low one.
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                else { throw error("lone surrogate in a \\u escape") }
                position += 2
                let low = try hexQuad()
                guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate in a \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("lone surrogate in a \\u escape")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
            output.append(contentsOf: Character(unicode).utf8)
        default:
            position -= 1
            throw error("invalid escape '\\\(Self.describe(letter))'")
        }
    }

    private mutating func hexQuad() throws(JSONValue.ParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// A number as JSON writes it: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private mutating func parseNumber() throws(JSONValue.ParseError) -> Double {
        let start = position
        if peek == UInt8(ascii: "-") { position += 1 }
        if peek == UInt8(ascii: "0") {
            position += 1
            if let next = peek, Self.isDigit(next) { throw error("leading zero in a number") }
        } else {
            guard digits() > 0 else { throw position < bytes.count ? unexpectedCharacter() : error("unexpected end of the document") }
        }
        if peek == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw error("expected a digit after the decimal point") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            position += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw error("expected a digit in the exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            position = start
            throw error("number \(text) does not fit a Double")
        }
        return value
    }

    /// Skips a run of digits; how many there were.
    private mutating func digits() -> Int {
        let start = position
        while let byte = peek, Self.isDigit(byte) { position += 1 }
        return position - start
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) throws(JSONValue.ParseError) -> JSONValue {
        let expected = word.withUTF8Buffer { Array($0) }
        guard position + expected.count <= bytes.count, bytes[position..<position + expected.count].elementsEqual(expected) else {
            throw unexpectedCharacter()
        }
        position += expected.count
        return value
    }

    private mutating func enter() throws(JSONValue.ParseError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func expect(_ byte: UInt8) throws(JSONValue.ParseError) {
        guard position < bytes.count else { throw error("unexpected end of the document") }
        guard bytes[position] == byte else { throw unexpectedCharacter(expected: byte) }
        position += 1
    }

    /// The closer of a container, after a member: anything but it (or a comma) is an error.
    private mutating func expectEnd(_ closer: UInt8) throws(JSONValue.ParseError) {
        guard position < bytes.count else { throw error("unexpected end of the document") }
        guard bytes[position] == closer else {
            throw error("unexpected character '\(Self.describe(bytes[position]))', expected ',' or '\(Self.describe(closer))'")
        }
        position += 1
    }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private func validated(_ slice: ArraySlice<UInt8>, at start: Int) throws(JSONValue.ParseError) -> String {
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw JSONValue.ParseError(reason: "invalid UTF-8 in a string" + location(of: start))
        }
        return text
    }

    private func unexpectedCharacter(expected: UInt8? = nil) -> JSONValue.ParseError {
        let found = position < bytes.count ? "'\(Self.describe(bytes[position]))'" : "the end"
        let wanted = expected.map { ", expected '\(Self.describe($0))'" } ?? ""
        return error("unexpected character \(found)\(wanted)")
    }

    private func error(_ message: String) -> JSONValue.ParseError {
        JSONValue.ParseError(reason: message + location(of: position))
    }

    /// ` at line L, column C` (1-based, columns in bytes).
    private func location(of offset: Int) -> String {
        var line = 1
        var column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return " at line \(line), column \(column)"
    }

    /// A byte as readable text: printable ASCII as itself, anything else as hex.
    private static func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "0x" + String(byte, radix: 16, uppercase: true)
    }
}
