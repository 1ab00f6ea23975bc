/// Composes the YAML our configuration and mapping files use into a ``YAMLNode`` tree whose
/// every node knows its line and column (counted in Unicode scalars, both from 1, as libyaml
/// counts them).
///
/// ```swift
/// let root = try YAMLReader.compose("mqtt:\n  url: mqtt://broker\n")   // nil for an empty file
/// ```
///
/// It reads one document (an optional `---` and `...`) of block mappings and lists, flow
/// `[ … ]` and `{ … }`, plain, single- and double-quoted scalars (with YAML's escapes and line
/// folding), comments, and anchors with aliases (`&name`, `*name`). Everything else (tags,
/// block scalars `|` `>`, `?` complex keys, merge keys `<<`, several documents, directives)
/// is an error at its position saying it is not supported. A key written twice in one mapping
/// and a tab in indentation are errors too.
///
/// It is a line-oriented recursive descent: a block collection is the run of lines whose
/// content starts at its column; a value sits after `key:` or `- `, on the same line or on
/// the lines below indented deeper (a list may sit at its key's column).
struct YAMLReader {
    /// Where a value is written, which decides what may start on the indicator's line.
    enum Context {
        /// After `key:`: a list may follow at the key's column; no `key:` on the same line.
        case mappingValue
        /// After `- `: a compact `key: value` mapping or `- ` list may follow on the same line.
        case sequenceEntry
        /// After `---`.
        case document
    }

    /// The document.
    let text: [Unicode.Scalar]
    /// The next character.
    var index = 0
    /// Where the current line starts in `text`.
    var lineStart = 0
    /// The current line, from 1.
    var line = 1
    /// The current column, from 1.
    var column = 1
    /// The anchored nodes by name, for aliases.
    var anchors: [String: YAMLNode] = [:]
    /// How many collections enclose the cursor.
    var depth = 0

    /// The deepest nesting read: far beyond any configuration, well within the stack.
    static let maximumDepth = 64

    private init(_ yaml: String) {
        text = Array(yaml.unicodeScalars)
    }

    /// Composes the document in `yaml`.
    ///
    /// - Returns: The root node, or `nil` when the file holds no document (only comments).
    /// - Throws: ``YAMLError`` at the first problem.
    static func compose(_ yaml: String) throws(YAMLError) -> YAMLNode? {
        var reader = YAMLReader(yaml)
        return try reader.document()
    }

    // MARK: - Document

    private mutating func document() throws(YAMLError) -> YAMLNode? {
        try checkCharacters()
        if peek() == "\u{FEFF}" {
            index += 1
            lineStart = index
        }
        try skipToContent()
        if column == 1, peek() == "%" {
            throw .unsupported("YAML directives (%YAML, %TAG) are not supported", at: position)
        }
        var root: YAMLNode?
        if atDocumentMarker("-") {
            advance(3)
            root = try value(parent: 0, after: position, in: .document)
            try finishLine()
            try skipToContent()
        } else if !atEnd, !atDocumentMarker(".") {
            root = try blockNode(parent: 0, in: .document)
            try finishLine()
            try skipToContent()
        }
        if atDocumentMarker(".") {
            advance(3)
            try finishLine()
            try skipToContent()
            if !atEnd {
                throw .unsupported("several documents in one file are not supported", at: position)
            }
        }
        guard atEnd else {
            if atDocumentMarker("-") {
                throw .unsupported("several documents in one file are not supported", at: position)
            }
            throw .syntax("unexpected \(describe(peek())) after the document's top-level value", at: position)
        }
        return root
    }

    // MARK: - Block structure

    /// The value after an indicator: on the rest of this line, or on the lines below when
    /// they are indented deeper than `parent` (the column of the collection holding it).
    ///
    /// - Parameters:
    ///   - parent: The column of the mapping or list the value belongs to (0 at the top).
    ///   - indicatorEnd: Just after `:` or `-`: where an empty value is placed (as libyaml does).
    mutating func value(parent: Int, after indicatorEnd: ConfigPosition, in context: Context) throws(YAMLError) -> YAMLNode {
        while Self.isBlank(peek()) {
            // As in libyaml: a tab may not separate a value from its ':' or '-'.
            if peek() == "\t", context != .document {
                throw .syntax("a tab after ':' or '-'; YAML separates with spaces", at: position)
            }
            advance()
        }
        let anchor = try properties()
        skipBlanks()
        var node: YAMLNode
        if atLineEnd {
            try skipToContent()
            if !atEnd, !atDocumentBoundary, column > parent {
                node = try blockNode(parent: parent, in: .sequenceEntry)
            } else if !atEnd, !atDocumentBoundary, column == parent, context == .mappingValue, atSequenceEntry {
                node = try blockSequence(column: column, indentless: true)
            } else {
                let at = anchor?.position ?? (context == .document ? position : indicatorEnd)
                node = .scalar(YAMLScalar(string: "", style: .plain, position: at))
            }
        } else {
            if anchor != nil, peek() == "*" {
                throw .syntax("an alias cannot have an anchor", at: position)
            }
            node = try inlineNode(parent: parent, in: context, anchored: anchor != nil)
        }
        if let anchor {
            node = node.moved(to: anchor.position)
            anchors[anchor.name] = node
        }
        return node
    }

    /// A node whose first line is its own (the root, or a value below its key): a list, a
    /// mapping, or a single value.
    private mutating func blockNode(parent: Int, in context: Context) throws(YAMLError) -> YAMLNode {
        if peek() == "&" || peek() == "!" {
            return try value(parent: parent, after: position, in: context)
        }
        return try inlineNode(parent: parent, in: .sequenceEntry, anchored: false)
    }

    /// A node that starts at the cursor, on a line that may hold an indicator before it.
    private mutating func inlineNode(parent: Int, in context: Context, anchored: Bool) throws(YAMLError) -> YAMLNode {
        let start = position
        if atSequenceEntry {
            guard context == .sequenceEntry else {
                throw .syntax("a list entry '- ' cannot start on the same line as its key; start the list on the next line", at: start)
            }
            return try blockSequence(column: column, indentless: false)
        }
        if peek() == "?", isBlankOrEnd(at: 1) {
            throw .unsupported("complex keys ('? ') are not supported", at: start)
        }
        let node = try content(parent: parent, inFlow: false)
        skipBlanks()
        guard peek() == ":", isBlankOrEnd(at: 1) else { return node }
        guard node.position.line == line else {
            throw .syntax("a key must be on one line (a ': ' inside a value needs quotes)", at: position)
        }
        guard context == .sequenceEntry else {
            throw .syntax("a value cannot be 'key: value' on the same line as its key; quote it or start a mapping on the next line", at: position)
        }
        guard case .scalar(let key) = node, key.position == start, !anchored else {
            throw .unsupported("a key must be a plain or quoted text: complex keys, aliases and anchors on keys are not supported", at: start)
        }
        try checkMergeKey(key)
        return try blockMapping(column: start.column, firstKey: key)
    }

    /// A block mapping whose keys start at `column`; the cursor is at the `:` after `firstKey`.
    private mutating func blockMapping(column mappingColumn: Int, firstKey: YAMLScalar) throws(YAMLError) -> YAMLNode {
        try enterCollection(at: firstKey.position)
        defer { depth -= 1 }
        var pairs: [YAMLMapping.Pair] = []
        var key = firstKey
        while true {
            advance()  // the ':'
            let value = try value(parent: mappingColumn, after: position, in: .mappingValue)
            pairs.append(YAMLMapping.Pair(key: key, value: value))
            try finishLine()
            try skipToContent()
            if atEnd || atDocumentBoundary || column < mappingColumn { break }
            guard column == mappingColumn else {
                throw .syntax("bad indentation: this line is indented deeper than the keys above it (column \(mappingColumn))", at: position)
            }
            guard !atSequenceEntry else {
                throw .syntax("expected a key at this column, found a list entry '- '", at: position)
            }
            key = try blockKey()
        }
        try Self.checkDuplicates(pairs)
        return .mapping(YAMLMapping(pairs: pairs, position: firstKey.position))
    }

    /// The next key of a block mapping, up to its `:`.
    private mutating func blockKey() throws(YAMLError) -> YAMLScalar {
        let start = position
        switch peek() {
        case "?" where isBlankOrEnd(at: 1), "[", "{":
            throw .unsupported("complex keys (a '?', '[ ]' or '{ }' key) are not supported", at: start)
        case "&", "*":
            throw .unsupported("anchors and aliases on keys are not supported", at: start)
        default:
            break
        }
        guard case .scalar(let key) = try content(parent: column, inFlow: false) else {
            throw .unsupported("complex keys are not supported", at: start)
        }
        skipBlanks()
        guard peek() == ":", isBlankOrEnd(at: 1) else {
            throw .syntax("expected ':' after the key '\(key.string)' on the same line", at: atLineEnd ? start : position)
        }
        guard key.position.line == line else {
            throw .syntax("a key must be on one line", at: start)
        }
        try checkMergeKey(key)
        return key
    }

    /// A block list whose `-` are at `column`; the cursor is at the first `-`.
    ///
    /// - Parameter indentless: The list is a mapping's value at the mapping's own column, so a
    ///   line at that column without `- ` is the mapping's next key.
    private mutating func blockSequence(column listColumn: Int, indentless: Bool) throws(YAMLError) -> YAMLNode {
        let start = position
        try enterCollection(at: start)
        defer { depth -= 1 }
        var elements: [YAMLNode] = []
        while true {
            advance()  // the '-'
            elements.append(try value(parent: listColumn, after: position, in: .sequenceEntry))
            try finishLine()
            try skipToContent()
            if atEnd || atDocumentBoundary || column < listColumn { break }
            guard column == listColumn else {
                throw .syntax("bad indentation: this line is indented deeper than the list entries above it (column \(listColumn))", at: position)
            }
            guard atSequenceEntry else {
                if indentless { break }
                throw .syntax("expected a list entry '- ' at this column", at: position)
            }
        }
        return .sequence(YAMLSequence(elements: elements, position: start))
    }

    /// A single node starting at the cursor: a flow collection, an alias or a scalar.
    ///
    /// - Parameter parent: The column a plain scalar's next lines must be deeper than.
    mutating func content(parent: Int, inFlow: Bool) throws(YAMLError) -> YAMLNode {
        let start = position
        switch peek() {
        case "[": return try flowSequence()
        case "{": return try flowMapping()
        case "\"", "'": return .scalar(try quotedScalar())
        case "*": return try alias()
        case "&": throw .syntax("an anchor must come before the value it names", at: start)
        case "!": throw .unsupported("YAML tags (!name, !!type) are not supported", at: start)
        case "|", ">":
            throw .unsupported("block scalars ('|' and '>') are not supported; write the text in quotes (\"\\n\" for a line break)", at: start)
        case "@", "`": throw .syntax("\(describe(peek())) is reserved in YAML and cannot start a value; quote the value", at: start)
        case "%": throw .syntax("'%' cannot start a value; quote the value", at: start)
        case ",", "]", "}":
            throw .syntax("expected a value, found \(describe(peek()))\(inFlow ? " in a flow collection" : "")", at: start)
        case "-" where isBlankOrEnd(at: 1):
            throw .syntax("a list entry '- ' is not allowed here\(inFlow ? " inside a flow collection" : "")", at: start)
        case ":" where isBlankOrEnd(at: 1) || inFlow, "?" where isBlankOrEnd(at: 1) || inFlow:
            throw .syntax("expected a value before \(describe(peek()))", at: start)
        case nil: throw .syntax("unexpected end of file", at: start)
        default: return .scalar(try plainScalar(parent: parent, inFlow: inFlow))
        }
    }

    // MARK: - Anchors and aliases

    /// An anchor (`&name`) before a value, if there is one; a tag is reported as unsupported.
    mutating func properties() throws(YAMLError) -> (name: String, position: ConfigPosition)? {
        if peek() == "!" {
            throw .unsupported("YAML tags (!name, !!type) are not supported", at: position)
        }
        guard peek() == "&" else { return nil }
        let start = position
        advance()
        let name = try anchorName(kind: "an anchor", start: start)
        skipBlanks()
        if peek() == "!" {
            throw .unsupported("YAML tags (!name, !!type) are not supported", at: position)
        }
        return (name, start)
    }

    /// An alias (`*name`): the node its anchor names.
    private mutating func alias() throws(YAMLError) -> YAMLNode {
        let start = position
        advance()
        let name = try anchorName(kind: "an alias", start: start)
        guard let node = anchors[name] else {
            throw .syntax("unknown alias '*\(name)' (no '&\(name)' before it)", at: start)
        }
        return node
    }

    /// The name after `&` or `*`: letters, digits, `_` and `-`.
    private mutating func anchorName(kind: String, start: ConfigPosition) throws(YAMLError) -> String {
        var name = String.UnicodeScalarView()
        while let character = peek(), Self.isNameCharacter(character) {
            name.append(character)
            advance()
        }
        guard !name.isEmpty, isBlankOrEnd(at: 0) || [",", "]", "}", ":"].contains(peek()) else {
            throw .syntax(
                "'\(kind == "an alias" ? "*" : "&")' starts \(kind), which needs a name of letters, digits, '_' and '-'; quote a value that starts with it",
                at: start
            )
        }
        return String(name)
    }

    private static func isNameCharacter(_ character: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(character) || ("A"..."Z").contains(character) || ("0"..."9").contains(character)
            || character == "_" || character == "-"
    }

    // MARK: - Checks

    /// YAML allows tab, line breaks and printable characters only (as libyaml checked): a
    /// control character is reported where it is, before anything is read.
    private func checkCharacters() throws(YAMLError) {
        var line = 1
        var column = 1
        for (offset, character) in text.enumerated() {
            let value = character.value
            let printable = value == 0x09 || value == 0x0A || value == 0x0D || (0x20...0x7E).contains(value) || value == 0x85
                || (0xA0...0xD7FF).contains(value) || (0xE000...0xFFFD).contains(value) || value >= 0x10000
            guard printable else {
                throw .syntax("\(describe(character)) is not allowed in YAML; write it as an escape in double quotes", at: ConfigPosition(line: line, column: column))
            }
            let crlf = character == "\r" && offset + 1 < text.count && text[offset + 1] == "\n"
            if Self.isBreak(character), !crlf {
                line += 1
                column = 1
            } else if !crlf {
                column += 1
            }
        }
    }

    /// Counts one more enclosing collection; deeper than ``maximumDepth`` is an error.
    mutating func enterCollection(at start: ConfigPosition) throws(YAMLError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw .unsupported("collections nested deeper than \(Self.maximumDepth) levels are not supported", at: start)
        }
    }

    /// A plain `<<` key asks for a merge, which would otherwise silently become a key.
    private func checkMergeKey(_ key: YAMLScalar) throws(YAMLError) {
        if key.style == .plain, key.string == "<<" {
            throw .unsupported("merge keys ('<<') are not supported; repeat the keys or use an alias for the whole value", at: key.position)
        }
    }

    /// A key written twice in one mapping: reported at the first of them, as Yams did.
    static func checkDuplicates(_ pairs: [YAMLMapping.Pair]) throws(YAMLError) {
        var first: [String: ConfigPosition] = [:]
        var repeated = Set<String>()
        for pair in pairs {
            if first[pair.key.string] == nil {
                first[pair.key.string] = pair.key.position
            } else {
                repeated.insert(pair.key.string)
            }
        }
        let names = repeated.sorted()
        guard let name = names.first, let at = first[name] else { return }
        let list = names.map { "'\($0)'" }.joined(separator: ", ")
        throw YAMLError(message: "duplicate key \(list) in one mapping", position: at)
    }
}
