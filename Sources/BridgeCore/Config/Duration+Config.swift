/// The duration syntax of the configuration file: `500ms`, `10s`, `5m`, `1h`, `1d`, and
/// combinations written largest unit first, such as `1m30s` or `1h30m`.
extension Duration {
    /// The units a configuration duration may use, largest first, with their length in milliseconds.
    static let configUnits: [(suffix: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]

    /// Parses a configuration duration such as `10s` or `1m30s`.
    ///
    /// Each component is a whole number followed by a unit (`ms`, `s`, `m`, `h`, `d`), units
    /// appear at most once and largest first. A bare number has no unit and is rejected, so
    /// `timeout: 10` never silently means ten milliseconds or ten minutes.
    ///
    /// - Parameter text: The text as written in the file, after environment interpolation.
    /// - Returns: The duration, or `nil` when `text` is not a duration.
    public init?(configString text: String) {
        var rest = Substring(text)
        var total: Int64 = 0
        var lastUnitIndex = -1
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let amount = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix { $0.isASCII && $0.isLetter }
            guard let unitIndex = Self.configUnits.firstIndex(where: { $0.suffix == letters }),
                unitIndex > lastUnitIndex
            else { return nil }
            rest = rest.dropFirst(letters.count)
            lastUnitIndex = unitIndex
            let (product, overflow) = amount.multipliedReportingOverflow(by: Self.configUnits[unitIndex].milliseconds)
            guard !overflow else { return nil }
            let (sum, sumOverflow) = total.addingReportingOverflow(product)
            guard !sumOverflow else { return nil }
            total = sum
        }
        self = .milliseconds(total)
    }

    /// The duration in whole milliseconds, rounded toward zero.
    var configMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// The duration written the way the configuration file writes it, in the largest unit
    /// that divides it exactly: `90s`, `5m`, `1500ms`, `1d`.
    ///
    /// `Duration(configString: d.configDescription) == d` for any whole number of milliseconds.
    public var configDescription: String {
        let milliseconds = configMilliseconds
        guard milliseconds != 0 else { return "0s" }
        for unit in Self.configUnits where milliseconds % unit.milliseconds == 0 {
            return "\(milliseconds / unit.milliseconds)\(unit.suffix)"
        }
        return "\(milliseconds)ms"
    }
}
