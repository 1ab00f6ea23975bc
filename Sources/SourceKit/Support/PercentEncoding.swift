/// Percent-encoding for query strings and form bodies (RFC 3986 unreserved characters kept).
enum PercentEncoding {
    /// Encodes for a query component: everything but `A–Z a–z 0–9 - . _ ~` becomes `%XX`.
    static func encode(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + hex(byte >> 4) + hex(byte & 0x0F)
            }
        }
        return output
    }

    /// Encodes for `application/x-www-form-urlencoded`: like ``encode(_:)`` but space becomes `+`.
    static func formEncode(_ text: String) -> String {
        encode(text).replacing("%20", with: "+")
    }

    /// Builds `a=1&b=2` from name/value pairs, encoding both.
    static func query(_ items: [(name: String, value: String)]) -> String {
        items.map { encode($0.name) + "=" + encode($0.value) }.joined(separator: "&")
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func hex(_ nibble: UInt8) -> String {
        String(nibble, radix: 16, uppercase: true)
    }
}
