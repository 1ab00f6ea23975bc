import Yams

/// A line and column in the configuration file, both starting at 1.
///
/// Yams' `Mark` cannot be created outside Yams, so the reader converts every mark into this.
struct ConfigPosition: Hashable, Comparable {
    /// The line, starting at 1.
    let line: Int
    /// The column, starting at 1 (counted in Unicode scalars, as libyaml does).
    let column: Int

    /// The start of the file.
    static let start = ConfigPosition(line: 1, column: 1)

    /// A position at a line and column.
    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The position of a Yams mark.
    init(_ mark: Mark) {
        self.init(line: mark.line, column: mark.column)
    }

    /// The position of a node, or `fallback` when Yams gave it none.
    init(of node: Node, fallback: ConfigPosition) {
        self = node.mark.map(ConfigPosition.init) ?? fallback
    }

    /// File order: by line, then column.
    static func < (lhs: ConfigPosition, rhs: ConfigPosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}
