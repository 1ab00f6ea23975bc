/// Makes text from outside (payloads, topics, device and entity names, error bodies) safe for a
/// log line: one event stays one line, and nothing reaches a terminal as a control sequence.
///
/// Control characters (C0, DEL, C1), line and paragraph separators and bidirectional overrides
/// are written as escapes (`\n`, `\r`, `\t`, `\u{1B}`), and the text is cut after `limit`
/// characters with a note of how much was left out. Escaping is idempotent: escaped text
/// escapes to itself, so a value escaped where it is logged and again by the log handler reads
/// the same.
public enum LogText {
    /// The default bound for one logged value.
    public static let defaultLimit = 200

    /// `text` escaped and cut after `limit` Unicode scalars.
    public static func escaped(_ text: some StringProtocol, limit: Int = defaultLimit) -> String {
        var output = ""
        var count = 0
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            if count >= limit {
                let rest = scalars[index...].count
                output += "…(\(rest) more)"
                return output
            }
            let scalar = scalars[index]
            switch scalar {
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where needsEscape(scalar):
                output += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: output.unicodeScalars.append(scalar)
            }
            count += 1
            index = scalars.index(after: index)
        }
        return output
    }

    /// Whether `text` needs no escaping (the common case, checked without copying).
    public static func isClean(_ text: some StringProtocol) -> Bool {
        !text.unicodeScalars.contains(where: needsEscape)
    }

    /// Controls, separators and bidirectional formatting characters.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x061C: true
        default: false
        }
    }
}
