/// The `transaction` member of a command or bridge request, echoed in its result exactly as it
/// was received: a string stays that string, and a number keeps every digit it was written with
/// (``JSONValue`` holds numbers as `Double`, which is exact only up to 2^53, so a client with
/// 64-bit ids could not match its result otherwise).
public struct CommandTransaction: Sendable, Hashable {
    /// The value as parsed.
    public var value: JSONValue
    /// The number's JSON text as received, when the value is a number.
    var literal: String?

    /// A transaction given as a value (a number then renders in its shortest form).
    public init(_ value: JSONValue) {
        self.value = value
        self.literal = nil
    }

    /// The `transaction` member of the top-level object in `payload`, with its number literal;
    /// nil when the payload is no JSON object or has no such member.
    ///
    /// - Parameter parsed: The payload already parsed (its `transaction` member is the value).
    static func member(of payload: [UInt8], parsed: JSONValue?) -> CommandTransaction? {
        guard let value = parsed?["transaction"] else { return nil }
        var transaction = CommandTransaction(value)
        if case .number = value, let raw = JSONMemberScanner.rawMember("transaction", in: payload),
            JSONMemberScanner.isNumberLiteral(raw), (try? JSONValue.parse(raw)) == value
        {
            transaction.literal = String(decoding: raw, as: UTF8.self)
        }
        return transaction
    }
}

extension JSONValue {
    /// Compact JSON of an object with `transaction` added as its last member, written exactly as
    /// received (see ``CommandTransaction``). `transaction` sorts after every other key the results and
    /// responses carry (`data`, `entity`, `error`, `error_code`, `http_status`, `status`), so the
    /// keys stay sorted as in every other rendered object.
    static func renderedObject(_ members: [String: JSONValue], transaction: CommandTransaction?) -> [UInt8] {
        guard let transaction else { return JSONValue.object(members).jsonBytes }
        guard let literal = transaction.literal, !members.isEmpty, members.keys.allSatisfy({ $0 < "transaction" }) else {
            var members = members
            members["transaction"] = transaction.value
            return JSONValue.object(members).jsonBytes
        }
        var bytes = JSONValue.object(members).jsonBytes
        bytes.removeLast()  // the closing brace
        bytes.append(contentsOf: #","transaction":"#.utf8)
        bytes.append(contentsOf: literal.utf8)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}

/// Finds the raw text of one member of a top-level JSON object without building values (the
/// document has already been parsed; this only recovers a number's digits).
enum JSONMemberScanner {
    /// The raw bytes of the last top-level member named `name`, or nil.
    static func rawMember(_ name: String, in bytes: [UInt8]) -> ArraySlice<UInt8>? {
        var index = 0
        skipWhitespace(bytes, &index)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var found: ArraySlice<UInt8>?
        while true {
            skipWhitespace(bytes, &index)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return found }
            guard bytes[index] == UInt8(ascii: "\"") else { return nil }
            let keyStart = index
            guard skipString(bytes, &index) else { return nil }
            let key = bytes[keyStart..<index]
            skipWhitespace(bytes, &index)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace(bytes, &index)
            let valueStart = index
            guard skipValue(bytes, &index) else { return nil }
            if matches(key, name) { found = bytes[valueStart..<index] }
            skipWhitespace(bytes, &index)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else {
                return bytes[index] == UInt8(ascii: "}") ? found : nil
            }
        }
    }

    /// Whether `raw` is exactly a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    static func isNumberLiteral(_ raw: ArraySlice<UInt8>) -> Bool {
        var index = raw.startIndex
        func digits() -> Int {
            let start = index
            while index < raw.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(raw[index]) { index += 1 }
            return index - start
        }
        if index < raw.endIndex, raw[index] == UInt8(ascii: "-") { index += 1 }
        if index < raw.endIndex, raw[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            return false
        }
        if index < raw.endIndex, raw[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < raw.endIndex, raw[index] == UInt8(ascii: "e") || raw[index] == UInt8(ascii: "E") {
            index += 1
            if index < raw.endIndex, raw[index] == UInt8(ascii: "+") || raw[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == raw.endIndex
    }

    /// Whether a quoted key is `name`: compared as bytes, or decoded when it has escapes.
    private static func matches(_ key: ArraySlice<UInt8>, _ name: String) -> Bool {
        guard key.contains(UInt8(ascii: "\\")) else { return key.dropFirst().dropLast().elementsEqual(name.utf8) }
        return (try? JSONValue.parse(key)) == .string(name)
    }

    private static func skipWhitespace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    /// From an opening quote to just past its closing quote.
    private static func skipString(_ bytes: [UInt8], _ index: inout Int) -> Bool {
        index += 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""):
                index += 1
                return true
            default: index += 1
            }
        }
        return false
    }

    /// Past one value: a string, a nested object or array, or a scalar.
    private static func skipValue(_ bytes: [UInt8], _ index: inout Int) -> Bool {
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return skipString(bytes, &index)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard skipString(bytes, &index) else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return true
                    }
                default: break
                }
                index += 1
            }
            return false
        default:
            let start = index
            let ends: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D]
            while index < bytes.count, !ends.contains(bytes[index]) { index += 1 }
            return index > start
        }
    }
}
