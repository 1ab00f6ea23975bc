/// Seeded random YAML documents in the subset our reader supports, written in many of the ways
/// YAML allows: block and flow collections, compact and indentless lists, plain (also
/// multi-line), single- and double-quoted scalars with escapes, empty values, comments, blank
/// lines, anchors and aliases, document markers.
///
/// The differential test needs no expected tree: Yams is the oracle.
struct YAMLCorpus {
    /// A tree to write.
    indirect enum Tree {
        case scalar(String)
        case empty
        case mapping([(String, Tree)])
        case sequence([Tree])
        case alias(String)
    }

    /// SplitMix64: deterministic across platforms and runs.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    var random: Generator
    /// Anchors written so far in the current document (an alias may only name one of them).
    private var anchors: [String] = []
    private var anchorCount = 0

    init(seed: UInt64) {
        random = Generator(state: seed)
    }

    private mutating func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &random) < percent
    }

    private mutating func pick<T>(_ values: [T]) -> T {
        values[Int.random(in: 0..<values.count, using: &random)]
    }

    // MARK: - Trees

    private static let words = [
        "mqtt", "broker", "url", "poll_interval", "10s", "1m30s", "true", "False", "yes", "no", "null", "~", "12", "-3.5",
        "1e3", "0x1F", "mdi:battery", "http://192.168.1.50:8080/api", "${MQTT_URL:-mqtt://127.0.0.1:1883}", "a#b", "50%",
        "pi[0]", "items[*].value", "x-y", "snake_case", "CamelCase", "ä", "€", "日本", "😀", "a/b", "$.total",
        "key=value", "foo.bar", "-dash", "?mark", ":colon", "a:b", "@home", "`tick`", "!bang", "&amp", "*star",
        "|bar", ">gt", "'quote", "\"dq", "back\\slash", "semi;colon", "comma,here", "brace{x}", "tab\there", "line\nbreak",
        "",
    ]

    private mutating func text() -> String {
        let count = pick([1, 1, 1, 2, 3])
        return (0..<count).map { _ in pick(Self.words) }.joined(separator: pick([" ", " ", "  "]))
    }

    private mutating func key() -> String {
        pick(["id", "type", "url", "name", "from", "path", "endpoint", "device", "entities", "mqtt", "map", "options", "a b", "ä", "on", "12", "x-y", "k:v", "with'quote", ""])
    }

    private mutating func tree(depth: Int) -> Tree {
        let roll = Int.random(in: 0..<100, using: &random)
        if depth >= 4 || roll < 45 {
            return roll % 9 == 0 ? .empty : .scalar(text())
        }
        if roll < 75 {
            var seen = Set<String>()
            var pairs: [(String, Tree)] = []
            for _ in 0..<Int.random(in: 1...5, using: &random) {
                let name = key()
                guard seen.insert(name).inserted else { continue }
                pairs.append((name, tree(depth: depth + 1)))
            }
            return .mapping(pairs)
        }
        return .sequence((0..<Int.random(in: 1...5, using: &random)).map { _ in tree(depth: depth + 1) })
    }

    // MARK: - Documents

    /// The next document.
    mutating func document() -> String {
        anchors = []
        var out = ""
        if chance(20) { out += "# a comment before the document\n" }
        if chance(15) { out += "---\n" }
        let root: Tree = chance(85) ? .mapping(mappingPairs()) : tree(depth: 0)
        out += topLevel(root)
        if chance(10) { out += "...\n" }
        if chance(10) { out += "# trailing comment" + (chance(50) ? "\n" : "") }
        return out
    }

    private mutating func mappingPairs() -> [(String, Tree)] {
        if case .mapping(let pairs) = tree(depth: 1), !pairs.isEmpty { return pairs }
        return [("mqtt", .mapping([("url", .scalar("mqtt://b"))]))]
    }

    private mutating func topLevel(_ root: Tree) -> String {
        switch root {
        case .mapping, .sequence:
            return chance(15) ? flow(root, indent: 1) + "\n" : block(root, indent: 0).joined()
        default:
            return scalar(root, indent: 1, inFlow: false) + "\n"
        }
    }

    /// A block mapping or list as lines (each ends with a line break) at `indent` spaces.
    private mutating func block(_ tree: Tree, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        switch tree {
        case .mapping(let pairs):
            for (name, value) in pairs {
                if chance(5) { lines.append("\n") }
                if chance(5) { lines.append(pad + "# comment\n") }
                let keyText = keyText(name)
                lines += valueLines(value, prefix: pad + keyText + pick([":", ":", " :"]), indent: indent, inMapping: true)
            }
        case .sequence(let elements):
            for element in elements {
                if chance(5) { lines.append(pad + "# comment\n") }
                lines += valueLines(element, prefix: pad + "-", indent: indent, inMapping: false)
            }
        default:
            lines.append(pad + scalar(tree, indent: indent + 1, inFlow: false) + "\n")
        }
        return lines
    }

    /// `prefix` (`key:` or `-`) and the value after it.
    private mutating func valueLines(_ value: Tree, prefix: String, indent: Int, inMapping: Bool) -> [String] {
        var prefix = prefix
        let anchor = anchorable(value) && chance(8) ? newAnchor() : nil
        if let anchor { prefix += " &" + anchor }
        defer { if let anchor { anchors.append(anchor) } }
        switch value {
        case .empty:
            return [prefix + (chance(30) ? " # nothing" : "") + "\n"]
        case .scalar, .alias:
            return [prefix + " " + scalar(value, indent: indent + 1, inFlow: false, allowAlias: anchor == nil) + comment() + "\n"]
        case .mapping(let pairs) where pairs.isEmpty:
            return [prefix + " {}\n"]
        case .sequence(let elements) where elements.isEmpty:
            return [prefix + " []\n"]
        case .mapping, .sequence:
            if chance(20) { return [prefix + " " + flow(value, indent: indent + 1) + comment() + "\n"] }
            let indentless = inMapping && isSequence(value) && chance(40)
            let compact = !inMapping && anchor == nil && chance(60)
            if compact {
                // `- key: value` / `- - x`: the first line of the nested block sits after the dash.
                var nested = block(value, indent: indent + 2)
                if let first = nested.first, !first.hasPrefix("\n"), !first.trimmingPrefixSpaces().hasPrefix("#") {
                    nested[0] = prefix + " " + first.trimmingPrefixSpaces()
                    return nested
                }
                return [prefix + "\n"] + nested
            }
            let nestedIndent = indentless ? indent : indent + pick([1, 2, 2, 4])
            return [prefix + comment() + "\n"] + block(value, indent: nestedIndent)
        }
    }

    private func isSequence(_ tree: Tree) -> Bool {
        if case .sequence = tree { return true }
        return false
    }

    private func anchorable(_ tree: Tree) -> Bool {
        if case .alias = tree { return false }
        if case .empty = tree { return false }
        return true
    }

    private mutating func newAnchor() -> String {
        anchorCount += 1
        return "a\(anchorCount)"
    }

    private mutating func comment() -> String {
        chance(10) ? pick([" # comment", "  # a: b, [c]", " #"]) : ""
    }

    /// A flow collection, sometimes spread over lines indented by `indent`.
    private mutating func flow(_ tree: Tree, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        let separator = chance(15) ? ",\n" + pad : pick([", ", ",", " , "])
        switch tree {
        case .mapping(let pairs):
            let body = pairs.map { name, value in
                let valueText: String
                if case .empty = value {
                    valueText = chance(50) ? "" : ": "
                } else {
                    valueText = pick([": ", ": ", " : "]) + flow(value, indent: indent + 1)
                }
                return keyText(name, inFlow: true) + valueText
            }
            return "{" + pick([" ", ""]) + body.joined(separator: separator) + (chance(10) ? "," : "") + pick([" ", ""]) + "}"
        case .sequence(let elements):
            let body = elements.map { element -> String in
                if case .empty = element { return "''" }
                return flow(element, indent: indent + 1)
            }
            return "[" + body.joined(separator: separator) + (chance(10) ? ", " : "") + "]"
        default:
            return scalar(tree, indent: indent, inFlow: true)
        }
    }

    private mutating func keyText(_ name: String, inFlow: Bool = false) -> String {
        if !name.isEmpty, Self.isPlainSafe(name, inFlow: inFlow), chance(85) { return name }
        return chance(50) ? singleQuoted(name) ?? doubleQuoted(name) : doubleQuoted(name)
    }

    /// A scalar (or an alias to an earlier anchor) in some style that keeps its text.
    private mutating func scalar(_ tree: Tree, indent: Int, inFlow: Bool, allowAlias: Bool = true) -> String {
        if allowAlias, case .alias = tree, let name = anchors.last { return "*" + name }
        if allowAlias, !anchors.isEmpty, chance(5) { return "*" + pick(anchors) }
        guard case .scalar(let text) = tree else { return "''" }
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<5 where Self.isPlainSafe(text, inFlow: inFlow):
            return chance(20) ? fold(text, indent: indent) : text
        case 0..<8:
            if let quoted = singleQuoted(text) { return chance(15) ? fold(quoted, indent: indent) : quoted }
            return doubleQuoted(text)
        default:
            let quoted = doubleQuoted(text)
            return chance(15) ? fold(quoted, indent: indent) : quoted
        }
    }

    /// Breaks a line at some single spaces (line folding turns each back into a space).
    private mutating func fold(_ written: String, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent + Int.random(in: 0...2, using: &random))
        var out = ""
        var previous: Character = "x"
        let characters = Array(written)
        for (index, character) in characters.enumerated() {
            let next = index + 1 < characters.count ? characters[index + 1] : " "
            if character == " ", previous != " ", next != " ", next != "#", chance(50) {
                out += "\n" + pad
            } else {
                out.append(character)
            }
            previous = character
        }
        return out
    }

    private func singleQuoted(_ text: String) -> String? {
        guard !text.contains(where: { $0 == "\n" || $0 == "\t" }) else { return nil }
        return "'" + text.replacingAll("'", with: "''") + "'"
    }

    private mutating func doubleQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += pick(["\\t", "\t"])
            default:
                if scalar.value > 0x7F, chance(30) {
                    out += scalar.value > 0xFFFF ? "\\U" + hex(scalar.value, 8) : "\\u" + hex(scalar.value, 4)
                } else if scalar == "/", chance(50) {
                    out += "\\/"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private func hex(_ value: UInt32, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Text YAML reads back unchanged when written without quotes.
    static func isPlainSafe(_ text: String, inFlow: Bool) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return false }
        if " \t".unicodeScalars.contains(last) || "-?:,[]{}#&*!|>'\"%@` \t".unicodeScalars.contains(first) { return false }
        if text.contains("\n") || text.contains("\t") || text.contains(" #") || text.contains(": ") || text.hasSuffix(":") { return false }
        if text.contains("  ") { return false }
        if inFlow, text.contains(where: { ",[]{}".contains($0) }) { return false }
        return text != "---" && text != "..."
    }
}

extension String {
    fileprivate func trimmingPrefixSpaces() -> String {
        String(drop { $0 == " " })
    }

    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
