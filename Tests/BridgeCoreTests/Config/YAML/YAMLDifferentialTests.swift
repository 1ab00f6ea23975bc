import Foundation
import Testing

@testable import BridgeCore

/// Our ``YAMLReader`` against Yams (libyaml), the reader it replaced: the same tree (kinds,
/// keys in order, scalar text and style, every line and column) for every YAML file in the
/// repository, the YAML written inside the tests, and a seeded corpus of generated documents.
@Suite("YAML reader against Yams")
struct YAMLDifferentialTests {
    /// The repository's root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Every `*.yaml` / `*.yml` under `folder` (recursively).
    static func yamlFiles(under folder: String) -> [URL] {
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "yaml" || $0.pathExtension == "yml" }
            .sorted { $0.path < $1.path }
    }

    /// Records an issue unless both readers give the same tree, or both reject the document.
    ///
    /// - Returns: Whether Yams composed the document.
    @discardableResult
    static func expectSameTree(_ yaml: String, name: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        switch (YAMLTreeDump.yams(yaml), YAMLTreeDump.ours(yaml)) {
        case (.success(let expected), .success(let actual)):
            #expect(actual == expected, "\(name):\n\(yaml)", sourceLocation: sourceLocation)
            return true
        case (.success, .failure(let error)):
            Issue.record("\(name): Yams reads it, ours fails at \(error.position.line):\(error.position.column): \(error.message)\n\(yaml)", sourceLocation: sourceLocation)
            return true
        case (.failure(let error), .success(let tree)):
            Issue.record("\(name): Yams fails (\(error)), ours reads \(tree)\n\(yaml)", sourceLocation: sourceLocation)
            return false
        case (.failure, .failure):
            return false
        }
    }

    @Test("Every YAML file in the repository composes to the same tree")
    func repositoryFiles() throws {
        let files = Self.yamlFiles(under: "Config") + Self.yamlFiles(under: "Mappings") + Self.yamlFiles(under: "Tests")
        #expect(files.count >= 8)
        for file in files {
            let yaml = try String(contentsOf: file, encoding: .utf8)
            #expect(Self.expectSameTree(yaml, name: file.lastPathComponent), "\(file.path) does not compose")
        }
    }

    @Test("The YAML written inside the tests composes to the same tree (or fails in both)")
    func embeddedInTests() throws {
        var documents = 0
        var composed = 0
        let sources = try FileManager.default.subpathsOfDirectory(atPath: Self.root.appendingPathComponent("Tests").path)
            .filter { $0.hasSuffix(".swift") && !$0.contains("Config/YAML/") }
            .sorted()
        for source in sources {
            let text = try String(contentsOf: Self.root.appendingPathComponent("Tests").appendingPathComponent(source), encoding: .utf8)
            for (index, literal) in Self.multiLineLiterals(in: text).enumerated() {
                documents += 1
                if Self.expectSameTree(literal, name: "\(source) literal \(index + 1)") { composed += 1 }
            }
        }
        // The tests hold dozens of YAML (and JSON) documents; most are valid.
        #expect(documents > 60)
        #expect(composed * 10 > documents * 8, "\(composed) of \(documents)")
    }

    @Test("A seeded corpus of generated documents composes to the same tree", arguments: 0..<4)
    func generatedCorpus(batch: UInt64) {
        var corpus = YAMLCorpus(seed: 0x5EED_0000 + batch)
        var composed = 0
        for index in 0..<250 {
            let yaml = corpus.document()
            if Self.expectSameTree(yaml, name: "batch \(batch) document \(index)") { composed += 1 }
        }
        // The generator writes valid YAML: Yams must read nearly all of it, or the corpus tests little.
        #expect(composed >= 245, "only \(composed) of 250 generated documents are valid YAML")
    }

    @Test("Mutated documents: where both readers accept one, the trees are the same; ours rejects what Yams rejects", arguments: 0..<4)
    func mutatedCorpus(batch: UInt64) {
        var corpus = YAMLCorpus(seed: 0x0BAD_0000 + batch)
        var random = YAMLCorpus.Generator(state: 0x0BAD_1000 + batch)
        let pieces = [":", ": ", "-", "- ", "#", " #", "'", "\"", "[", "]", "{", "}", ",", "&x ", "*x", "\n", "\n  ", " ", "  ", "\\", "?", "|", "!", "%", "@", "\t"]
        var bothRead = 0
        for index in 0..<250 {
            var characters = Array(corpus.document())
            for _ in 0..<Int.random(in: 1...3, using: &random) where !characters.isEmpty {
                let at = Int.random(in: 0..<characters.count, using: &random)
                if Bool.random(using: &random) {
                    characters.remove(at: at)
                } else {
                    characters.insert(contentsOf: pieces[Int.random(in: 0..<pieces.count, using: &random)], at: at)
                }
            }
            let yaml = String(characters)
            let name = "mutated batch \(batch) document \(index)"
            switch (YAMLTreeDump.yams(yaml), YAMLTreeDump.ours(yaml)) {
            case (.success(let expected), .success(let actual)):
                bothRead += 1
                #expect(actual == expected, "\(name):\n\(yaml)")
            case (.failure(let error), .success(let tree)):
                Issue.record("\(name): Yams fails (\(error)), ours reads \(tree)\n\(yaml)")
            case (.success, .failure(let error)):
                // Stricter on purpose only: features we do not read, and tabs YAML would allow.
                let deliberate = !error.message.hasPrefix("YAML syntax error") || error.message.contains("tab")
                #expect(deliberate, "\(name): Yams reads it, ours fails at \(error.position.line):\(error.position.column): \(error.message)\n\(yaml)")
            case (.failure, .failure):
                break
            }
        }
        #expect(bothRead >= 50, "only \(bothRead) of 250 mutated documents are read by both")
    }

    /// The contents of the Swift multi-line string literals in `source` (`"""` … `"""`), with
    /// the closing delimiter's indentation removed; literals with interpolation or escapes
    /// other than `\\`, `\"` and `\n` are left out.
    static func multiLineLiterals(in source: String) -> [String] {
        var literals: [String] = []
        var body: [Substring]?
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if var lines = body {
                if trimmed.hasPrefix("\"\"\"") {
                    let indent = line.count - trimmed.count
                    let text = lines.map { $0.count >= indent ? String($0.dropFirst(indent)) : "" }.joined(separator: "\n") + "\n"
                    if let unescaped = unescape(text) { literals.append(unescaped) }
                    body = nil
                } else {
                    lines.append(line)
                    body = lines
                }
            } else if line.hasSuffix("\"\"\""), !line.hasSuffix("#\"\"\""), !trimmed.hasPrefix("\"\"\"") || trimmed.count == 3 {
                body = []
            }
        }
        return literals
    }

    private static func unescape(_ text: String) -> String? {
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                switch character {
                case "\\": out += "\\"
                case "\"": out += "\""
                case "n": out += "\n"
                default: return nil
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
