/// Flow collections: `[a, b]` and `{key: value, …}`, which may span lines.
extension YAMLReader {
    /// A `[ … ]` list; the cursor is at `[`.
    mutating func flowSequence() throws(YAMLError) -> YAMLNode {
        let start = position
        try enterCollection(at: start)
        defer { depth -= 1 }
        advance()
        var elements: [YAMLNode] = []
        while true {
            try skipFlowSpace(opened: start, "[")
            if peek() == "]" { break }
            elements.append(try flowNode())
            try skipFlowSpace(opened: start, "[")
            if peek() == ":" {
                throw .unsupported("a 'key: value' pair inside a flow sequence [ ] is not supported; write { key: value } inside it", at: position)
            }
            if peek() == "," {
                advance()
                continue
            }
            guard peek() == "]" else {
                throw .syntax("expected ',' or ']' in a flow sequence, found \(describe(peek()))", at: position)
            }
            break
        }
        advance()
        return .sequence(YAMLSequence(elements: elements, position: start))
    }

    /// A `{ … }` mapping; the cursor is at `{`.
    mutating func flowMapping() throws(YAMLError) -> YAMLNode {
        let start = position
        try enterCollection(at: start)
        defer { depth -= 1 }
        advance()
        var pairs: [YAMLMapping.Pair] = []
        while true {
            try skipFlowSpace(opened: start, "{")
            if peek() == "}" { break }
            let keyStart = position
            if peek() == "?", isBlankOrEnd(at: 1) {
                throw .unsupported("complex keys ('? ') are not supported", at: keyStart)
            }
            guard peek() != "&", peek() != "*", peek() != "[", peek() != "{" else {
                throw .unsupported("a key must be a plain or quoted text: complex keys, aliases and anchors on keys are not supported", at: keyStart)
            }
            guard case .scalar(let key) = try flowNode() else {
                throw .unsupported("complex keys are not supported", at: keyStart)
            }
            try skipFlowSpace(opened: start, "{")
            var value = YAMLNode.scalar(YAMLScalar(string: "", style: .plain, position: position))
            if peek() == ":" {
                guard line == keyStart.line else {
                    throw .syntax("a key inside a flow mapping must be on one line with its ':'", at: keyStart)
                }
                advance()
                try skipFlowSpace(opened: start, "{")
                if peek() != ",", peek() != "}" {
                    value = try flowNode()
                    try skipFlowSpace(opened: start, "{")
                } else {
                    value = .scalar(YAMLScalar(string: "", style: .plain, position: position))
                }
            }
            pairs.append(YAMLMapping.Pair(key: key, value: value))
            if peek() == "," {
                advance()
                continue
            }
            guard peek() == "}" else {
                throw .syntax("expected ',' or '}' in a flow mapping, found \(describe(peek()))", at: position)
            }
            break
        }
        advance()
        try Self.checkDuplicates(pairs)
        return .mapping(YAMLMapping(pairs: pairs, position: start))
    }

    /// One element, key or value inside a flow collection, with its anchor.
    private mutating func flowNode() throws(YAMLError) -> YAMLNode {
        let anchor = try properties()
        var node: YAMLNode
        if anchor != nil, [",", "]", "}", ":"].contains(peek()) {
            node = .scalar(YAMLScalar(string: "", style: .plain, position: position))
        } else if anchor != nil, peek() == "*" {
            throw .syntax("an alias cannot have an anchor", at: position)
        } else {
            node = try content(parent: 0, inFlow: true)
        }
        if let anchor {
            node = node.moved(to: anchor.position)
            anchors[anchor.name] = node
        }
        return node
    }

    /// Skips blanks, line breaks and comments inside a flow collection.
    ///
    /// - Throws: The end of the file before the collection is closed.
    private mutating func skipFlowSpace(opened: ConfigPosition, _ bracket: String) throws(YAMLError) {
        while Self.isBlank(peek()) || Self.isBreak(peek()) || peek() == "#" {
            if peek() == "#" {
                while !atEnd, !Self.isBreak(peek()) { advance() }
            } else {
                advance()
            }
        }
        if atEnd || atDocumentBoundary {
            let kind = bracket == "[" ? "flow sequence" : "flow mapping"
            throw .syntax("the \(kind) '\(bracket)' opened at line \(opened.line), column \(opened.column) is not closed", at: position)
        }
    }
}
