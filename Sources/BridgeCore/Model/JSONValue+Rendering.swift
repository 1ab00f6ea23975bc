import Foundation

/// Turning values into text: compact JSON for payloads, plain text for single-value topics.
extension JSONValue {
    /// Compact JSON text with object keys sorted, so equal values render identically
    /// (retained payloads do not churn). Integral numbers have no fractional part; a
    /// non-finite number renders as `null`.
    public var jsonString: String {
        var output = ""
        write(into: &output)
        return output
    }

    /// The compact JSON text as UTF-8 bytes, for MQTT payloads.
    public var jsonBytes: [UInt8] { Array(jsonString.utf8) }

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

    private func write(into output: inout String) {
        switch self {
        case .null:
            output += "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .number(let value):
            output += Self.format(value)
        case .string(let value):
            Self.writeString(value, into: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.write(into: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                Self.writeString(key, into: &output)
                output += ":"
                members[key]?.write(into: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ string: String, into output: inout String) {
        output += "\""
        // Fast path: most keys and values need no escaping and are copied whole.
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) {
            output += string
            output += "\""
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text.
    public var description: String { jsonString }
}
