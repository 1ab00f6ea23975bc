/// Plain and quoted scalars, with YAML's line folding: a single line break between two lines
/// of text reads as a space, each further empty line as a line break, and the blanks around
/// line breaks are dropped.
extension YAMLReader {
    /// A plain (unquoted) scalar. It ends at `: `, at ` #`, at a flow indicator inside a flow
    /// collection, or before a line indented no deeper than `parent` (block context only).
    mutating func plainScalar(parent: Int, inFlow: Bool) throws(YAMLError) -> YAMLScalar {
        let start = position
        var result = String.UnicodeScalarView()
        var blanks = String.UnicodeScalarView()
        var lineBreaks = 0
        scan: while true {
            if atDocumentBoundary || peek() == "#" { break }
            while let character = peek(), !Self.isBlank(character), !Self.isBreak(character) {
                if inFlow, character == ":", let next = peek(1), [",", "?", "[", "]", "{", "}"].contains(next) {
                    throw .syntax("unexpected ':' in a plain value inside a flow collection; quote the value", at: position)
                }
                if character == ":", isBlankOrEnd(at: 1) { break scan }
                if inFlow, [",", "[", "]", "{", "}"].contains(character) { break scan }
                Self.fold(into: &result, blanks: &blanks, lineBreaks: &lineBreaks)
                result.append(character)
                advance()
            }
            guard Self.isBlank(peek()) || Self.isBreak(peek()) else { break }
            while Self.isBlank(peek()) || Self.isBreak(peek()) {
                if Self.isBreak(peek()) {
                    blanks.removeAll()
                    lineBreaks += 1
                } else if lineBreaks == 0 {
                    blanks.append(peek() ?? " ")
                } else if peek() == "\t", !inFlow, column <= parent {
                    throw .syntax("a tab in indentation; YAML indents with spaces only", at: position)
                }
                advance()
            }
            if !inFlow, column <= parent { break }
        }
        return YAMLScalar(string: String(result), style: .plain, position: start)
    }

    /// A `'…'` or `"…"` scalar; the cursor is at the opening quote.
    mutating func quotedScalar() throws(YAMLError) -> YAMLScalar {
        let start = position
        let quote = peek() ?? "'"
        let double = quote == "\""
        advance()
        var result = String.UnicodeScalarView()
        while true {
            if atDocumentBoundary {
                throw .syntax("a document marker inside a quoted value; the quote that starts here is not closed", at: start)
            }
            var escapedBreak = false
            while let character = peek(), !Self.isBlank(character), !Self.isBreak(character) {
                if !double, character == "'", peek(1) == "'" {
                    result.append("'")
                    advance(2)
                } else if character == quote {
                    break
                } else if double, character == "\\" {
                    if Self.isBreak(peek(1)) {
                        advance(2)
                        escapedBreak = true
                        break
                    }
                    result.append(try escape())
                } else {
                    result.append(character)
                    advance()
                }
            }
            guard let character = peek() else {
                throw .syntax("the quoted value that starts here is not closed (missing \(describe(quote)))", at: start)
            }
            if character == quote, !escapedBreak {
                advance()
                break
            }
            var blanks = String.UnicodeScalarView()
            var lineBreaks = escapedBreak ? 1 : 0
            let leadingBreakIsFolded = !escapedBreak
            while Self.isBlank(peek()) || Self.isBreak(peek()) {
                if Self.isBreak(peek()) {
                    if lineBreaks == 0 { blanks.removeAll() }
                    lineBreaks += 1
                } else if lineBreaks == 0 {
                    blanks.append(peek() ?? " ")
                }
                advance()
            }
            if lineBreaks == 0 {
                result.append(contentsOf: blanks)
            } else if leadingBreakIsFolded {
                result.append(contentsOf: lineBreaks == 1 ? [" "] : Array(repeating: "\n", count: lineBreaks - 1))
            } else {
                result.append(contentsOf: Array(repeating: "\n", count: lineBreaks - 1))
            }
        }
        return YAMLScalar(string: String(result), style: double ? .doubleQuoted : .singleQuoted, position: start)
    }

    /// Appends what stood between two pieces of a plain scalar's text: the blanks on one line,
    /// or the folded line breaks.
    private static func fold(into result: inout String.UnicodeScalarView, blanks: inout String.UnicodeScalarView, lineBreaks: inout Int) {
        if lineBreaks == 1 {
            result.append(" ")
        } else if lineBreaks > 1 {
            result.append(contentsOf: Array(repeating: "\n", count: lineBreaks - 1))
        } else {
            result.append(contentsOf: blanks)
        }
        blanks.removeAll()
        lineBreaks = 0
    }

    /// One escape of a double-quoted scalar; the cursor is at the `\`.
    private mutating func escape() throws(YAMLError) -> Unicode.Scalar {
        let start = position
        advance()
        let simple: [Unicode.Scalar: Unicode.Scalar] = [
            "0": "\0", "a": "\u{07}", "b": "\u{08}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{0B}", "f": "\u{0C}",
            "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\", "N": "\u{85}", "_": "\u{A0}",
            "L": "\u{2028}", "P": "\u{2029}",
        ]
        guard let code = peek() else {
            throw .syntax("a '\\' at the end of the file", at: start)
        }
        advance()
        if let replacement = simple[code] { return replacement }
        let digits: Int
        switch code {
        case "x": digits = 2
        case "u": digits = 4
        case "U": digits = 8
        default: throw .syntax("unknown escape '\\\(code)' in a double-quoted value", at: start)
        }
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let digit = peek(), let number = UInt32(String(digit), radix: 16) else {
                throw .syntax("the escape '\\\(code)' needs \(digits) hexadecimal digits", at: start)
            }
            value = value * 16 + number
            advance()
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw .syntax("the escape at this position is not a Unicode character", at: start)
        }
        return scalar
    }
}
