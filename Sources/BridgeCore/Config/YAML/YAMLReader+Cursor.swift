/// Moving through the text: characters, blanks, comments and lines.
extension YAMLReader {
    /// Where the cursor is.
    var position: ConfigPosition {
        ConfigPosition(line: line, column: column)
    }

    /// Whether the whole text is read.
    var atEnd: Bool {
        index >= text.count
    }

    /// The character `offset` ahead, or `nil` past the end.
    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < text.count ? text[index + offset] : nil
    }

    /// Steps over `count` characters, a line break (`\n`, `\r\n` or `\r`) counting as one.
    mutating func advance(_ count: Int = 1) {
        for _ in 0..<count {
            guard let character = peek() else { return }
            index += 1
            if character == "\r", peek() == "\n" { index += 1 }
            if character == "\n" || character == "\r" {
                line += 1
                column = 1
                lineStart = index
            } else {
                column += 1
            }
        }
    }

    /// A space or a tab.
    static func isBlank(_ character: Unicode.Scalar?) -> Bool {
        character == " " || character == "\t"
    }

    /// A line break.
    static func isBreak(_ character: Unicode.Scalar?) -> Bool {
        character == "\n" || character == "\r"
    }

    /// Whether the character `offset` ahead is a blank, a line break or the end.
    func isBlankOrEnd(at offset: Int) -> Bool {
        let character = peek(offset)
        return character == nil || Self.isBlank(character) || Self.isBreak(character)
    }

    /// Whether nothing but a comment is left on this line (after blanks were skipped).
    var atLineEnd: Bool {
        atEnd || Self.isBreak(peek()) || peek() == "#"
    }

    /// Whether the cursor is at `- ` (or a `-` ending the line).
    var atSequenceEntry: Bool {
        peek() == "-" && isBlankOrEnd(at: 1)
    }

    /// Whether the cursor is at `---` (`marker` "-") or `...` (`marker` ".") at the start of a line.
    func atDocumentMarker(_ marker: Unicode.Scalar) -> Bool {
        column == 1 && peek() == marker && peek(1) == marker && peek(2) == marker && isBlankOrEnd(at: 3)
    }

    /// Whether the cursor is at `---` or `...`, which end every block collection.
    var atDocumentBoundary: Bool {
        atDocumentMarker("-") || atDocumentMarker(".")
    }

    /// Whether only blanks precede the cursor on its line.
    var atLineIndentation: Bool {
        text[lineStart..<index].allSatisfy(Self.isBlank)
    }

    /// Skips spaces and tabs on this line.
    mutating func skipBlanks() {
        while Self.isBlank(peek()) { advance() }
    }

    /// Skips blanks, comments and empty lines up to the next content (or the end).
    ///
    /// - Throws: A tab at the start of a line (also of a blank or comment line, as in libyaml).
    mutating func skipToContent() throws(YAMLError) {
        while !atEnd {
            while Self.isBlank(peek()) {
                if peek() == "\t", atLineIndentation {
                    throw .syntax("a tab in indentation; YAML indents with spaces only", at: position)
                }
                advance()
            }
            if peek() == "#" {
                while !atEnd, !Self.isBreak(peek()) { advance() }
            }
            guard Self.isBreak(peek()) else { return }
            advance()
        }
    }

    /// Checks that the rest of the line after a value is blank or a comment.
    mutating func finishLine() throws(YAMLError) {
        if atLineIndentation { return }  // a block value that already ended on a later line
        skipBlanks()
        guard atLineEnd else {
            throw .syntax("unexpected \(describe(peek())) after the value; quote a value that contains it", at: position)
        }
    }

    /// A character for an error message.
    func describe(_ character: Unicode.Scalar?) -> String {
        guard let character else { return "end of file" }
        switch character {
        case "\t": return "tab"
        case "\n", "\r": return "line break"
        case "'": return "\"'\""
        default:
            guard character.value >= 0x20, character.value != 0x7F else {
                let digits = String(character.value, radix: 16, uppercase: true)
                return "control character U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
            }
            return "'\(character)'"
        }
    }
}
