/// Reads the path syntax described on ``ValuePath``.
struct ValuePathParser {
    private let text: String
    private let characters: [Character]
    private var offset = 0

    init(_ text: String) {
        self.text = text
        self.characters = Array(text)
    }

    mutating func parse() throws(ValuePathError) -> (ValuePath.Root, [ValuePath.Segment]) {
        guard !characters.isEmpty else { throw failure("the path is empty") }
        var root = ValuePath.Root.context
        var segments: [ValuePath.Segment] = []
        var needsSeparator = false
        if peek == "$" || peek == "@" {
            root = peek == "$" ? .document : .context
            offset += 1
            needsSeparator = true
        } else if peek != "[" {
            segments.append(.key(try plainKey()))
        }
        while let character = peek {
            switch character {
            case ".":
                offset += 1
                segments.append(.key(try plainKey()))
            case "[":
                segments.append(try bracket())
            default:
                if needsSeparator {
                    throw failure("expected '.' or '[' after '\(characters[0])'")
                }
                throw failure("unexpected '\(character)' (use '.' between keys and [n] for array elements)")
            }
            needsSeparator = false
        }
        return (root, segments)
    }

    private var peek: Character? {
        offset < characters.count ? characters[offset] : nil
    }

    private func failure(_ reason: String) -> ValuePathError {
        ValuePathError(path: text, position: offset + 1, reason: reason)
    }

    private static func isKeyCharacter(_ character: Character) -> Bool {
        if character.isLetter || character.isNumber { return true }
        return "_-:@#%".contains(character)
    }

    private mutating func plainKey() throws(ValuePathError) -> String {
        let start = offset
        while let character = peek, Self.isKeyCharacter(character) { offset += 1 }
        guard offset > start else {
            if let character = peek { throw failure("expected a key, got '\(character)'") }
            throw failure("expected a key after '.'")
        }
        return String(characters[start..<offset])
    }

    private mutating func bracket() throws(ValuePathError) -> ValuePath.Segment {
        offset += 1  // "["
        let segment: ValuePath.Segment
        switch peek {
        case "*":
            offset += 1
            segment = .wildcard
        case "\"", "'":
            segment = .key(try quoted())
        case "$":
            let word = readWhile { $0 != "]" }
            guard word == "$index" else {
                offset -= word.count
                throw failure("unknown placeholder '\(word)' (inside [] only $index is known)")
            }
            segment = .childIndex
        case let character? where character.isNumber || character == "-":
            let start = offset
            let digits = readWhile { $0.isNumber || $0 == "-" }
            guard let index = Int(digits) else {
                offset = start
                throw failure("'\(digits)' is not an array index")
            }
            segment = .index(index)
        case let character? where Self.isKeyCharacter(character):
            let field = try plainKey()
            guard peek == "=" else {
                throw failure("expected '=' after '\(field)' (write [\(field)=value] to pick a list item, or .\(field) for a key)")
            }
            offset += 1
            segment = .match(field: field, value: try matchValue())
        case nil:
            throw failure("expected an index, '*', or field=value after '['")
        case let character?:
            throw failure("unexpected '\(character)' after '['")
        }
        guard peek == "]" else {
            if let character = peek { throw failure("expected ']', got '\(character)'") }
            throw failure("expected ']'")
        }
        offset += 1
        return segment
    }

    private mutating func matchValue() throws(ValuePathError) -> String? {
        switch peek {
        case "\"", "'":
            return try quoted()
        default:
            let value = readWhile { $0 != "]" }
            guard !value.isEmpty else { throw failure("expected a value after '='") }
            return value == "$child" ? nil : value
        }
    }

    private mutating func quoted() throws(ValuePathError) -> String {
        guard let quote = peek else { throw failure("expected a quote") }
        let start = offset
        offset += 1
        let content = readWhile { $0 != quote }
        guard peek == quote else {
            offset = start
            throw failure("unterminated quote")
        }
        offset += 1
        return content
    }

    private mutating func readWhile(_ predicate: (Character) -> Bool) -> String {
        let start = offset
        while let character = peek, predicate(character) { offset += 1 }
        return String(characters[start..<offset])
    }
}
