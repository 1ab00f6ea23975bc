#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turning values into text: compact JSON for payloads, plain text for single-value topics.
extension JSONValue {
    /// Compact JSON text with object keys sorted, so equal values render identically
    /// (retained payloads do not churn). Integral numbers have no fractional part; a
    /// non-finite number renders as `null`.
    public var jsonString: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// The compact JSON text as UTF-8 bytes, for MQTT payloads.
    public var jsonBytes: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        write(into: &output)
        return output
    }

    /// Converts any `Encodable` into a JSON value (the redacted configuration, for example).
    public init(encoding value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The value as a plain MQTT payload or a path/query fragment: a string as itself, a
    /// number in its shortest form (`230.1`, `52000`), `true`/`false`, an empty string for
    /// `null`, and JSON text for arrays and objects.
    public var text: String {
        switch self {
        case .null: ""
        case .bool(let value): value ? "true" : "false"
        case .number(let value): Self.format(value)
        case .string(let value): value
        case .array, .object: jsonString
        }
    }

    /// A number in its shortest round-tripping form, without `.0` on integral values;
    /// `-0` renders as `0`, a non-finite number as `null`.
    public static func format(_ number: Double) -> String {
        if let integer = exactInteger(number) { return String(integer) }
        guard number.isFinite else { return "null" }
        return "\(number)"
    }

    /// The number as an integer when it is integral and exactly representable (|n| < 2^53).
    static func exactInteger(_ number: Double) -> Int64? {
        guard number.isFinite, number == number.rounded(.towardZero), abs(number) < 9_007_199_254_740_992 else {
            return nil
        }
        return Int64(number)
    }

    /// Appends the compact JSON text as UTF-8 (bytes, not a String: payloads are bytes, and
    /// this is on the path of every state message).
    func write(into output: inout [UInt8]) {
        switch self {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let value):
            output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value):
            Self.writeNumber(value, into: &output)
        case .string(let value):
            Self.writeString(value, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in members.sorted(by: { $0.key < $1.key }) {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                Self.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                value.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func writeNumber(_ number: Double, into output: inout [UInt8]) {
        if let integer = exactInteger(number) {
            // Digits without building a String.
            if integer < 0 { output.append(UInt8(ascii: "-")) }
            appendDigits(integer.magnitude, minimumCount: 1, into: &output)
            return
        }
        if writeShortDecimal(number, into: &output) { return }
        output.append(contentsOf: format(number).utf8)
    }

    /// Writes a number that is a decimal of at most four fractional digits (a reading rounded to
    /// its precision, usually) without formatting a String: the same text as `format`, since a
    /// decimal of at most 13 significant digits is the shortest text that reads back as the
    /// double nearest to it. Returns `false`, writing nothing, for any other number.
    static func writeShortDecimal(_ number: Double, into output: inout [UInt8]) -> Bool {
        let magnitude = number.magnitude
        // Below 1e-4 Swift writes an exponent; from 1e9 on, 4 decimals exceed 13 digits; whole
        // numbers have no decimals (`writeNumber` writes them as integers).
        guard magnitude >= 1e-4, magnitude < 1e9, magnitude != magnitude.rounded(.towardZero) else { return false }
        // The decimal of four fractional digits nearest to it, if that reads back as this very
        // double; with its trailing zeros dropped it is the one of the fewest digits that does
        // (any shorter decimal that reads back is this one, padded with zeros).
        let scaled = (magnitude * 10_000).rounded()
        guard scaled / 10_000 == magnitude else { return false }
        var digits = UInt64(scaled)
        var decimals = 4
        while digits % 10 == 0 {
            digits /= 10
            decimals -= 1
        }
        var divisor: UInt64 = 10
        for _ in 1..<decimals { divisor *= 10 }
        if number < 0 { output.append(UInt8(ascii: "-")) }
        appendDigits(digits / divisor, minimumCount: 1, into: &output)
        output.append(UInt8(ascii: "."))
        appendDigits(digits % divisor, minimumCount: decimals, into: &output)
        return true
    }

    /// The decimal digits of `value`, zero-padded on the left to `minimumCount`.
    private static func appendDigits(_ value: UInt64, minimumCount: Int, into output: inout [UInt8]) {
        let start = output.count
        var remaining = value
        repeat {
            output.append(UInt8(ascii: "0") + UInt8(remaining % 10))
            remaining /= 10
        } while remaining > 0 || output.count - start < minimumCount
        // Least significant digit first so far: reversed in place by swapping (reversing the
        // slice `output[start...]` copied the array's tail, a heap allocation per number).
        var low = start
        var high = output.count - 1
        while low < high {
            output.swapAt(low, high)
            low += 1
            high -= 1
        }
    }

    private static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Fast path: most keys and values need no escaping and are copied whole. Scanned as
        // contiguous bytes (every native string): through the UTF-8 view's iterator the scan cost
        // about 45 instructions a byte, a fifth of a first poll's work at 1,000 OCPP charge points.
        let copied = string.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for byte in bytes where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F { return false }
            output.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case 0x22: output.append(contentsOf: #"\""#.utf8)
            case 0x5C: output.append(contentsOf: #"\\"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            case _ where byte < 0x20 || byte == 0x7F:
                let hex = String(byte, radix: 16)
                output.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default:
                // UTF-8 sequences of other scalars pass through byte by byte.
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text.
    public var description: String { jsonString }
}
