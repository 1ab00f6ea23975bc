import Logging
import Testing

@testable import BridgeCore

@Suite("YAML reader")
struct YAMLReaderTests {
    /// The error of a document that must fail, as `line:column: message`.
    private func failure(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            let tree = try YAMLReader.compose(yaml)
            Issue.record("expected an error, got \(tree.map(YAMLTreeDump.dump) ?? "nothing")", sourceLocation: sourceLocation)
            return ""
        } catch {
            return "\(error.position.line):\(error.position.column): \(error.message)"
        }
    }

    private func tree(_ yaml: String) throws -> String {
        try YAMLReader.compose(yaml).map(YAMLTreeDump.dump) ?? "(none)"
    }

    // MARK: - What it reads

    @Test("Block mappings, compact and indentless lists, flow collections and positions")
    func structure() throws {
        let yaml = """
            mqtt:
              url: mqtt://b   # comment
            sources:
            - id: han
              tags: [a, "b", 'c']
            - - x
              - {k: v, e}
            """
        #expect(try tree(yaml) == """
            {@1:1 plain@1:1 "mqtt": {@2:3 plain@2:3 "url": plain@2:8 "mqtt://b"}, plain@3:1 "sources": \
            [@4:1 {@4:3 plain@4:3 "id": plain@4:7 "han", plain@5:3 "tags": [@5:9 plain@5:10 "a", doubleQuoted@5:13 "b", \
            singleQuoted@5:18 "c"]}, [@6:3 plain@6:5 "x", {@7:5 plain@7:6 "k": plain@7:9 "v", plain@7:12 "e": plain@7:13 ""}]]}
            """)
    }

    @Test("Empty values are empty plain scalars just after their ':' or '-'")
    func emptyValues() throws {
        #expect(try tree("a:\nb: # c\nc:\n- \n-\n") == #"{@1:1 plain@1:1 "a": plain@1:3 "", plain@2:1 "b": plain@2:3 "", plain@3:1 "c": [@4:1 plain@4:2 "", plain@5:2 ""]}"#)
        #expect(try tree("") == "(none)")
        #expect(try tree("# only a comment\n\n") == "(none)")
        #expect(try tree("---\n") == #"plain@2:1 """#)
    }

    @Test("Quoted scalars: escapes, doubled quotes and line folding")
    func quoted() throws {
        #expect(try tree(#"a: "tab\tnl\n\x41\u00e9\U0001F600 \"q\" \\ \/""#) == #"{@1:1 plain@1:1 "a": doubleQuoted@1:4 "tab\tnl\nAé😀 \"q\" \\ /"}"#)
        #expect(try tree("a: 'it''s'\n") == #"{@1:1 plain@1:1 "a": singleQuoted@1:4 "it\'s"}"#)
        #expect(try tree("a: 'one\n  two\n\n  three'\n") == #"{@1:1 plain@1:1 "a": singleQuoted@1:4 "one two\nthree"}"#)
        #expect(try tree("a: \"one \\\n   two\"\n") == #"{@1:1 plain@1:1 "a": doubleQuoted@1:4 "one two"}"#)
    }

    @Test("Plain scalars fold over deeper lines and keep '#' and ':' inside words")
    func plain() throws {
        #expect(try tree("a: one\n  two\n\n  three\nb: x#y mdi:battery\n") == #"{@1:1 plain@1:1 "a": plain@1:4 "one two\nthree", plain@5:1 "b": plain@5:4 "x#y mdi:battery"}"#)
    }

    @Test("Anchors and aliases: an alias is the anchored node, positions included")
    func anchors() throws {
        #expect(try tree("a: &x\n  k: v\nb: *x\nc: [&y 1, *y]\n") == """
            {@1:1 plain@1:1 "a": {@1:4 plain@2:3 "k": plain@2:6 "v"}, plain@3:1 "b": {@1:4 plain@2:3 "k": plain@2:6 "v"}, \
            plain@4:1 "c": [@4:4 plain@4:5 "1", plain@4:5 "1"]}
            """)
    }

    @Test("Document markers, a byte order mark and CRLF line ends")
    func markers() throws {
        #expect(try tree("\u{FEFF}---\r\na: 1\r\nb: 'x'\r\n...\r\n") == #"{@2:1 plain@2:1 "a": plain@2:4 "1", plain@3:1 "b": singleQuoted@3:4 "x"}"#)
    }

    // MARK: - Errors

    @Test("Syntax errors name the problem and where it is")
    func syntaxErrors() throws {
        #expect(failure("a:\n  b: 1\n   c: 2\n") == "3:5: YAML syntax error: a key must be on one line (a ': ' inside a value needs quotes)")
        #expect(failure("a: \"open\nb: 1\n") == "1:4: YAML syntax error: the quoted value that starts here is not closed (missing '\"')")
        #expect(failure("a: 'open\n") == "1:4: YAML syntax error: the quoted value that starts here is not closed (missing \"'\")")
        #expect(failure("a: [1, 2\n") == "2:1: YAML syntax error: the flow sequence '[' opened at line 1, column 4 is not closed")
        #expect(failure("a: {b: pi[0]}\n") == "1:10: YAML syntax error: expected ',' or '}' in a flow mapping, found '['")
        #expect(failure("a: b: c\n") == "1:5: YAML syntax error: a value cannot be 'key: value' on the same line as its key; quote it or start a mapping on the next line")
        #expect(failure("a:\n  b: 1\n c: 2\n") == "3:2: YAML syntax error: bad indentation: this line is indented deeper than the keys above it (column 1)")
        #expect(failure("- a\nb: 1\n") == "2:1: YAML syntax error: expected a list entry '- ' at this column")
        #expect(failure("a: \"\\q\"\n") == "1:5: YAML syntax error: unknown escape '\\q' in a double-quoted value")
        #expect(failure("a: *nope\n") == "1:4: YAML syntax error: unknown alias '*nope' (no '&nope' before it)")
        #expect(failure("a: [*]\n").hasPrefix("1:5: YAML syntax error: '*' starts an alias"))
        #expect(failure("a: 'x' y\n") == "1:8: YAML syntax error: unexpected 'y' after the value; quote a value that contains it")
        #expect(failure("a: &x *y\n") == "1:7: YAML syntax error: an alias cannot have an anchor")
        #expect(failure("a: 1\r\nb: x\u{1}y\n") == "2:5: YAML syntax error: control character U+0001 is not allowed in YAML; write it as an escape in double quotes")
        #expect(failure("a: \"\u{7F}\"\n") == "1:5: YAML syntax error: control character U+007F is not allowed in YAML; write it as an escape in double quotes")
        #expect(try tree("a: \"\\u0001\"\n") == #"{@1:1 plain@1:1 "a": doubleQuoted@1:4 "\u{01}"}"#)
        #expect(failure("a: @x\n") == "1:4: YAML syntax error: '@' is reserved in YAML and cannot start a value; quote the value")
    }

    @Test("A tab in indentation is an error at the tab")
    func tabs() throws {
        #expect(failure("a:\n\tb: 1\n") == "2:1: YAML syntax error: a tab in indentation; YAML indents with spaces only")
        #expect(failure("a:\n  \tb: 1\n") == "2:3: YAML syntax error: a tab in indentation; YAML indents with spaces only")
        #expect(failure("a: 1\n\t# comment\nb: 2\n") == "2:1: YAML syntax error: a tab in indentation; YAML indents with spaces only")
        #expect(failure("a:\tb\n") == "1:3: YAML syntax error: a tab after ':' or '-'; YAML separates with spaces")
        #expect(failure("- \tb\n") == "1:3: YAML syntax error: a tab after ':' or '-'; YAML separates with spaces")
        // Between words, after a value and inside quotes a tab is a blank like a space.
        #expect(try tree("a: x\ty\t# c\nb: 'p\tq'\t\n") == #"{@1:1 plain@1:1 "a": plain@1:4 "x\ty", plain@2:1 "b": singleQuoted@2:4 "p\tq"}"#)
    }

    @Test("A key written twice is reported at its first occurrence, in block and flow mappings")
    func duplicateKeys() {
        #expect(failure("a: 1\nb: 2\na: 3\n") == "1:1: duplicate key 'a' in one mapping")
        #expect(failure("x:\n  b: 1\n  a: 2\n  b: 3\n  a: 4\n") == "3:3: duplicate key 'a', 'b' in one mapping")
        #expect(failure("m: {k: 1, 'k': 2}\n") == "1:5: duplicate key 'k' in one mapping")
        #expect(failure("m: {a\n b: 1}\n") == "1:5: YAML syntax error: a key inside a flow mapping must be on one line with its ':'")
    }

    @Test("Features the reader does not read are named at their position")
    func unsupported() {
        #expect(failure("a: !!str 1\n") == "1:4: YAML tags (!name, !!type) are not supported")
        #expect(failure("a: |\n  text\n") == "1:4: block scalars ('|' and '>') are not supported; write the text in quotes (\"\\n\" for a line break)")
        #expect(failure("a: >-\n  text\n").hasPrefix("1:4: block scalars"))
        #expect(failure("? a\n: b\n") == "1:1: complex keys ('? ') are not supported")
        #expect(failure("[a]: b\n").hasPrefix("1:1: a key must be a plain or quoted text"))
        #expect(failure("base: &b {x: 1}\nother:\n  <<: *b\n") == "3:3: merge keys ('<<') are not supported; repeat the keys or use an alias for the whole value")
        #expect(failure("a: 1\n---\nb: 2\n") == "2:1: several documents in one file are not supported")
        #expect(failure("%YAML 1.2\n---\na: 1\n") == "1:1: YAML directives (%YAML, %TAG) are not supported")
        #expect(failure("- &a k: v\n") == "1:6: a key must be a plain or quoted text: complex keys, aliases and anchors on keys are not supported")
        let deepest = String(repeating: "[", count: YAMLReader.maximumDepth) + String(repeating: "]", count: YAMLReader.maximumDepth)
        #expect(throws: Never.self) { try YAMLReader.compose(deepest) }
        #expect(failure("[" + deepest + "]") == "1:65: collections nested deeper than 64 levels are not supported")
        let blocks = (0...YAMLReader.maximumDepth).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n")
        #expect(failure(blocks) == "65:65: collections nested deeper than 64 levels are not supported")
        #expect(failure("a: [b: c]\n") == "1:6: a 'key: value' pair inside a flow sequence [ ] is not supported; write { key: value } inside it")
    }

    // MARK: - Meaning of scalars, unchanged from Yams

    @Test("Quoted scalars stay text; plain ones keep their YAML meaning in mappings")
    func scalarMeaning() throws {
        let document = try #require(try YAMLReader.compose("""
            body: {n: 12, q: "12", t: true, s: 'true', z: null, e: "", x: ~, y: yes, f: -1.5e3, h: 0x1F, empty: }
            """))
        guard case .mapping(let top) = document, let body = top.pairs.first?.value else {
            Issue.record("not a mapping")
            return
        }
        #expect(MappingReader.json(body) == .object([
            "n": .number(12), "q": .string("12"), "t": .bool(true), "s": .string("true"), "z": .null, "e": .string(""),
            "x": .null, "y": .string("yes"), "f": .number(-1500), "h": .string("0x1F"), "empty": .null,
        ]))
    }

    @Test("In the configuration a quoted empty string is a value; a plain empty one, ~ or null is not given")
    func configurationNulls() {
        let configuration = ConfigTestSupport.load("""
            mqtt:
              url: mqtt://b
              username: ~
              password_file: null
              client_id: "x"
            log: {level: "debug", format: }
            publish: {retain: FALSE}
            """)
        #expect(configuration?.mqtt.username == nil)
        #expect(configuration?.mqtt.clientID == "x")
        #expect(configuration?.log.level == .debug)
        #expect(configuration?.publish.retain == false)
        #expect(ConfigTestSupport.errors("mqtt:\n  url: mqtt://b\n  client_id: ''\n") == ["test.yaml:3:14: mqtt.client_id: must not be empty"])
        #expect(ConfigTestSupport.errors("mqtt: {url: mqtt://b}\npublish: {retain: yes}\n") == [
            "test.yaml:2:19: publish.retain: expected true or false, got 'yes'"
        ])
    }
}
