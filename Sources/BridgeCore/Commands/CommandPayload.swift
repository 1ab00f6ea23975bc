/// What a command's payload must be before any of it is read as a value: at most
/// ``maxBytes`` of valid UTF-8, without control characters other than tab, CR and LF, and (as
/// JSON) nested at most ``maxDepth`` deep. Anything else is refused with `invalid_payload`:
/// repairing it (dropping what follows a NUL, replacing invalid bytes) would act on something
/// the sender did not write.
public enum CommandPayload {
    /// The largest payload read (16 KiB): far above any command, far below a memory problem.
    public static let maxBytes = 16 * 1024
    /// The deepest nesting of JSON arrays and objects read.
    public static let maxDepth = 32
    /// The most entities one `<device>/set` may carry.
    public static let maxEntities = 64

    /// The payload as text, or why it cannot be a command.
    public static func text(of payload: [UInt8]) -> Result<String, CommandFailure> {
        guard payload.count <= maxBytes else {
            return .failure(CommandFailure(.invalidPayload, "payload too large (\(payload.count) bytes; at most \(maxBytes))"))
        }
        guard let text = String(validating: payload, as: UTF8.self) else {
            return .failure(CommandFailure(.invalidPayload, "payload is not valid UTF-8"))
        }
        if let control = payload.first(where: isForbiddenControl) {
            return .failure(CommandFailure(.invalidPayload, "payload contains a control character (0x\(hex(control)))"))
        }
        guard depth(of: payload) <= maxDepth else {
            return .failure(CommandFailure(.invalidPayload, "payload nests deeper than \(maxDepth) levels"))
        }
        return .success(text)
    }

    /// Whether bytes of a bridge request may be parsed at all (size and nesting; the request
    /// handler answers "invalid JSON" otherwise).
    static func isParsable(_ payload: [UInt8]) -> Bool {
        payload.count <= maxBytes && depth(of: payload) <= maxDepth
    }

    /// C0 controls other than tab, LF and CR, and DEL.
    private static func isForbiddenControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D) || byte == 0x7F
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }

    /// The deepest nesting of `[` and `{` outside JSON strings (whatever the bytes are).
    static func depth(of payload: [UInt8]) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for byte in payload {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            default: break
            }
        }
        return deepest
    }
}
