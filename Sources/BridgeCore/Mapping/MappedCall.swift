/// An HTTP call template of a command.
///
/// ```yaml
/// call:
///   method: POST
///   path: /api/v1/point/$child/connector/$value      # inserted as text, percent-escaped
///   query: { force: "true", amount: $value }           # inserted as text (the HTTP layer escapes)
///   body: { s: $value, note: "set to $value" }         # exactly "$value" keeps the JSON type
/// ```
///
/// `$value` is the validated (and transformed) command value, `$child` the child's id as the
/// API knows it (not the topic-safe one), `$child.<part>` one part of an id of several
/// (`$child.connector_id` for `id: [charge_point_id, connector_id]`), `$$` a literal `$`.
public struct MappedCall: Sendable, Hashable {
    /// The HTTP method, upper-case.
    public var method: String
    /// The path, starting with `/`, relative to the source's URL.
    public var path: String
    /// Query parameters, in file order.
    public var query: [QueryItem]
    /// The JSON body template; `nil` sends no body.
    public var body: JSONValue?

    /// Creates a call template.
    public init(method: String, path: String, query: [QueryItem] = [], body: JSONValue? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }

    /// The call for one command value.
    ///
    /// - Parameters:
    ///   - value: The validated command value (see ``CommandMapping/prepare(_:)``).
    ///   - childKey: The child's id as the API knows it (``ChildDevice/key``), kept typed so a
    ///     body's `"$child"` can be a number; `nil` for the main device.
    public func rendered(value: JSONValue, childKey: JSONValue?) -> RenderedCall {
        let substitutions = Substitutions(value: value, child: childKey)
        return RenderedCall(
            method: method,
            path: substitutions.fill(path, escape: Self.escapePathSegment),
            query: query.map { QueryItem(name: $0.name, value: substitutions.fill($0.value, escape: { $0 })) },
            body: body.map(substitutions.fill)
        )
    }

    /// The call for one command value, with the child's id given as text (a body's `"$child"`
    /// becomes a JSON string).
    public func rendered(value: JSONValue, child: String? = nil) -> RenderedCall {
        rendered(value: value, childKey: child.map(JSONValue.string))
    }

    /// Whether any part of the template uses `$child`.
    public var usesChild: Bool {
        path.contains("$child") || query.contains { $0.value.contains("$child") }
            || (body.map { $0.jsonString.contains("$child") } ?? false)
    }

    /// Percent-escapes text for one path segment: everything but `A–Z a–z 0–9 - _ ~`, so a
    /// value can never add a `/`, a `..`, a `?` or a `#` to the path.
    public static func escapePathSegment(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                output += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return output
    }
}

/// One query parameter of a call, name and value as written (placeholders allowed in the value).
public struct QueryItem: Sendable, Hashable {
    /// The parameter's name.
    public var name: String
    /// Its value.
    public var value: String

    /// Creates a parameter.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A call ready to send: placeholders filled.
public struct RenderedCall: Sendable, Hashable {
    /// The HTTP method.
    public var method: String
    /// The path, already percent-escaped where values were inserted.
    public var path: String
    /// Query parameters, not yet escaped.
    public var query: [QueryItem]
    /// The JSON body, or `nil` for none.
    public var body: JSONValue?

    /// Creates a call.
    public init(method: String, path: String, query: [QueryItem] = [], body: JSONValue? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }
}

/// Fills `$value`, `$child`, `$child.<part>` and `$$` in templates.
private struct Substitutions {
    let value: JSONValue
    let child: JSONValue?

    func fill(_ template: String, escape: (String) -> String) -> String {
        guard template.contains("$") else { return template }
        var output = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            rest = rest[dollar...]
            if rest.hasPrefix("$$") {
                output += "$"
                rest = rest.dropFirst(2)
            } else if rest.hasPrefix("$value") {
                output += escape(value.text)
                rest = rest.dropFirst(6)
            } else if rest.hasPrefix("$child.") {
                let name = rest.dropFirst(7).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                output += escape(part(String(name))?.text ?? "")
                rest = rest.dropFirst(7 + name.count)
            } else if rest.hasPrefix("$child") {
                output += escape(child?.text ?? "")
                rest = rest.dropFirst(6)
            } else {
                output += "$"
                rest = rest.dropFirst()
            }
        }
        return output + rest
    }

    /// One field of a child key of several parts (`$child.connector_id`).
    func part(_ name: String) -> JSONValue? {
        guard case .object(let parts)? = child else { return nil }
        return parts[name]
    }

    static func isPartName(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    func fill(_ template: JSONValue) -> JSONValue {
        switch template {
        case .string("$value"):
            return value
        case .string("$child"):
            return child ?? .null
        case .string(let text) where text.hasPrefix("$child.") && Self.isPartName(text.dropFirst(7)):
            return part(String(text.dropFirst(7))) ?? .null
        case .string(let text):
            return .string(fill(text, escape: { $0 }))
        case .array(let elements):
            return .array(elements.map(fill))
        case .object(let members):
            return .object(members.mapValues(fill))
        case .null, .bool, .number:
            return template
        }
    }
}
