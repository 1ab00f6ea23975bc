extension StringProtocol {
    /// The text without leading and trailing white space, as Foundation's
    /// `trimmingCharacters(in: .whitespaces)` (`newlines: false`: space separators and tab) or
    /// `.whitespacesAndNewlines` (`newlines: true`: every Unicode `White_Space` scalar), scalar by
    /// scalar, without Foundation.
    package func trimmingWhitespace(newlines: Bool = false) -> String {
        let scalars = String(self).unicodeScalars
        let trimmed: (Unicode.Scalar) -> Bool = { scalar in
            scalar.properties.isWhitespace && (newlines || !scalar.isNewlineScalar)
        }
        guard let first = scalars.firstIndex(where: { !trimmed($0) }),
            let last = scalars.lastIndex(where: { !trimmed($0) })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

extension Unicode.Scalar {
    /// LF, VT, FF, CR, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR: the white space that
    /// `CharacterSet.whitespaces` leaves out.
    fileprivate var isNewlineScalar: Bool {
        switch value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }
}
