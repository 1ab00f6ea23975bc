/// Makes names safe to use as an MQTT topic level and in Home Assistant ids.
///
/// The topic contract: device ids are lower-case `[a-z0-9_-]` only, so `/ + # $`, spaces,
/// quotes and control characters never reach a topic, whatever a device calls itself.
public enum TopicSafe {
    /// The topic-safe form of `raw`: lower-cased, every character outside `[a-z0-9_-]`
    /// replaced by `_`, runs of `_` collapsed, `_` trimmed from both ends; `unknown`
    /// when nothing is left.
    ///
    /// `TopicSafe.id("AA:BB:CC:00:11:22")` is `aa_bb_cc_00_11_22`; `TopicSafe.id("Bob's iPhone")`
    /// is `bob_s_iphone`.
    public static func id(_ raw: String) -> String {
        if isCanonical(raw) { return raw }
        // Bytewise: every byte outside [a-z0-9-] (after lower-casing A-Z) is a separator, and a
        // run of separators, including all the bytes of a non-ASCII character, is one `_`.
        var output: [UInt8] = []
        output.reserveCapacity(raw.utf8.count)
        var pendingSeparator = false
        for byte in raw.utf8 {
            let lowered = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
            switch lowered {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                if pendingSeparator && !output.isEmpty { output.append(UInt8(ascii: "_")) }
                pendingSeparator = false
                output.append(lowered)
            default:
                pendingSeparator = true
            }
        }
        return output.isEmpty ? "unknown" : String(decoding: output, as: UTF8.self)
    }

    /// Whether `id(raw)` would return `raw` unchanged: `[a-z0-9-]` runs joined by single
    /// underscores (the common case, checked without building a new string).
    static func isCanonical(_ raw: String) -> Bool {
        var previous: UInt8 = UInt8(ascii: "_")
        var any = false
        for byte in raw.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                break
            case UInt8(ascii: "_") where previous != UInt8(ascii: "_"):
                break
            default:
                return false
            }
            previous = byte
            any = true
        }
        return any && previous != UInt8(ascii: "_")
    }

    /// Whether `id` is already topic-safe (non-empty, `[a-z0-9_-]` only).
    public static func isSafe(_ id: String) -> Bool {
        !id.isEmpty
            && id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }
}
