extension StringProtocol {
    /// The text without the optional white space HTTP allows around header values and cookie
    /// attributes (RFC 9110 `OWS`: spaces and horizontal tabs only).
    func trimmingOptionalWhitespace() -> String {
        let isOptionalWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isOptionalWhitespace($0) }),
            let last = lastIndex(where: { !isOptionalWhitespace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
