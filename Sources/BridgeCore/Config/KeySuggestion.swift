/// Finds the known key a misspelt key most likely meant, for "did you mean …?" hints.
enum KeySuggestion {
    /// The allowed key closest to `key` by edit distance, if it is close enough to be a typo:
    /// at most 1 edit for short keys, at most a third of the key's length for longer ones.
    static func closest(to key: String, among allowed: [String]) -> String? {
        let limit = max(1, min(3, key.count / 3))
        let candidates = allowed.map { (key: $0, distance: distance(key.lowercased(), $0)) }
        guard let best = candidates.min(by: { $0.distance < $1.distance }), best.distance <= limit else { return nil }
        return best.key
    }

    /// The Levenshtein distance between two strings (insertions, deletions, substitutions).
    static func distance(_ lhs: String, _ rhs: String) -> Int {
        let source = Array(lhs)
        let target = Array(rhs)
        guard !source.isEmpty else { return target.count }
        guard !target.isEmpty else { return source.count }
        var previous = Array(0...target.count)
        var current = [Int](repeating: 0, count: target.count + 1)
        for (row, sourceCharacter) in source.enumerated() {
            current[0] = row + 1
            for (column, targetCharacter) in target.enumerated() {
                let substitution = previous[column] + (sourceCharacter == targetCharacter ? 0 : 1)
                current[column + 1] = min(previous[column + 1] + 1, current[column] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[target.count]
    }
}
