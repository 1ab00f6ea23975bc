/// Turns an error response body into one readable line.
///
/// Understands RFC 9457 problem details (`title`, `detail`), the CSMS shape
/// (`status_code`, `status_message`), the common `{"error": "..."}` / `{"message": "..."}`
/// shapes, and plain text (TinyBMS). The Content-Type is not trusted: a body that parses as
/// JSON is treated as JSON. HTML pages yield nothing rather than markup.
enum ErrorBody {
    /// The longest message kept, in characters.
    static let maximumLength = 200

    /// A one-line message from an error body, or `nil` when it says nothing useful.
    static func message(from body: [UInt8]) -> String? {
        guard let first = body.first(where: { !isWhitespace($0) }) else { return nil }
        if first == UInt8(ascii: "{"), let json = try? JSONNode.parse(body) {
            return jsonMessage(json).map(oneLine)
        }
        if first == UInt8(ascii: "<") { return nil }
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        let line = oneLine(text)
        return line.isEmpty ? nil : line
    }

    private static func jsonMessage(_ json: JSONNode) -> String? {
        // RFC 9457 problem details.
        let title = json["title"]?.text
        if let detail = json["detail"]?.text, !detail.isEmpty {
            if let title, !title.isEmpty, !detail.hasPrefix(title) { return "\(title): \(detail)" }
            return detail
        }
        // CSMS: {"status_code": 2001, "status_message": "..."}.
        if let message = json["status_message"]?.text {
            if let code = json["status_code"]?.text { return "\(message) (code \(code))" }
            return message
        }
        if let error = json["error"] {
            if let text = error.text { return text }
            if let message = error["message"]?.text { return message }
        }
        for key in ["message", "error_description", "info"] {
            if let text = json[key]?.text { return text }
        }
        return title
    }

    /// Collapses all whitespace runs (including line breaks) to single spaces and shortens.
    static func oneLine(_ text: String) -> String {
        let collapsed = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
        guard collapsed.count > maximumLength else { return collapsed }
        return String(collapsed.prefix(maximumLength - 1)) + "…"
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
