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
        var output = ""
        var lastWasUnderscore = false
        for scalar in raw.unicodeScalars {
            let lowered: Unicode.Scalar
            if ("A"..."Z").contains(scalar) {
                lowered = Unicode.Scalar(scalar.value + 32) ?? "_"
            } else {
                lowered = scalar
            }
            let allowed = ("a"..."z").contains(lowered) || ("0"..."9").contains(lowered) || lowered == "-"
            if allowed {
                output.unicodeScalars.append(lowered)
                lastWasUnderscore = false
            } else if !lastWasUnderscore {
                output += "_"
                lastWasUnderscore = true
            }
        }
        let trimmed = output.trimmingUnderscores()
        return trimmed.isEmpty ? "unknown" : trimmed
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

extension String {
    fileprivate func trimmingUnderscores() -> String {
        var slice = Substring(self)
        while slice.first == "_" { slice = slice.dropFirst() }
        while slice.last == "_" { slice = slice.dropLast() }
        return String(slice)
    }
}
