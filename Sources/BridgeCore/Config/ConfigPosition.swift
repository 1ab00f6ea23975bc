/// A line and column in the configuration file, both starting at 1.
struct ConfigPosition: Hashable, Comparable, Sendable {
    /// The line, starting at 1.
    let line: Int
    /// The column, starting at 1 (counted in Unicode scalars, as libyaml did).
    let column: Int

    /// The start of the file.
    static let start = ConfigPosition(line: 1, column: 1)

    /// A position at a line and column.
    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// File order: by line, then column.
    static func < (lhs: ConfigPosition, rhs: ConfigPosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}
