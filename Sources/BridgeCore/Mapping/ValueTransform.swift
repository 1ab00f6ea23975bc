/// One step of turning an API's raw value into the mapping's value: a closed, named set,
/// applied in the order the mapping file writes them.
///
/// | in a mapping file | effect |
/// |---|---|
/// | `scale: 0.001` | multiply (mV → V) |
/// | `offset: -273.15` | add |
/// | `round: 1` | round to that many decimals, here in the chain (`precision` rounds at the end) |
/// | `map: { CHARGING: true, 0: "off" }` | replace a value by another, matched as text; unmatched values pass unchanged |
/// | `invert: true` | negate a boolean, or the sign of a number |
/// | `convert: { from: Wh, to: kWh }` | convert between units of one quantity (`convert: Wh` converts to the entity's unit) |
/// | `epoch: ms` | a Unix time (`s`, `ms`, or `auto`: above 1e11 is ms) → ISO 8601 UTC, for `device_class: timestamp` |
///
/// Numbers may arrive as numeric strings (`"230.5"`); `null` passes through every step.
public enum ValueTransform: Sendable, Hashable, CustomStringConvertible {
    /// Multiply by a factor.
    case scale(Double)
    /// Add a constant.
    case offset(Double)
    /// Round half away from zero to a number of decimals.
    case round(Int)
    /// Replace values, looked up by their text (``JSONValue/text``); others pass unchanged.
    case map([String: JSONValue])
    /// Negate a boolean, or the sign of a number.
    case invert
    /// Convert a number from one unit to another of the same quantity (see ``UnitConversion``).
    case convert(from: String, to: String)
    /// Turn a Unix time into an ISO 8601 UTC timestamp (`2026-11-22T21:58:03.250Z`).
    case epoch(EpochUnit)

    /// The unit of a Unix time read by `epoch:`.
    public enum EpochUnit: String, Sendable, Hashable, CaseIterable {
        /// Seconds since 1970.
        case s
        /// Milliseconds since 1970.
        case ms
        /// Milliseconds when above 1e11 (after 1973-03-03 in ms, beyond the year 5138 in
        /// seconds), else seconds: for devices documented as ms that send seconds.
        case auto
    }

    /// The names a mapping file may use, in the order documentation lists them.
    public static let names = ["scale", "offset", "round", "map", "invert", "convert", "epoch"]

    /// The transform as a mapping file would write it.
    public var description: String {
        switch self {
        case .scale(let factor): "scale: \(JSONValue.format(factor))"
        case .offset(let amount): "offset: \(JSONValue.format(amount))"
        case .round(let decimals): "round: \(decimals)"
        case .map(let table): "map: \(JSONValue.object(table).jsonString)"
        case .invert: "invert: true"
        case .convert(let from, let to): "convert: { from: \(from), to: \(to) }"
        case .epoch(let unit): "epoch: \(unit.rawValue)"
        }
    }

    /// The transform's name, as a mapping file writes it.
    public var name: String {
        switch self {
        case .scale: "scale"
        case .offset: "offset"
        case .round: "round"
        case .map: "map"
        case .invert: "invert"
        case .convert: "convert"
        case .epoch: "epoch"
        }
    }

    /// Applies the transform to one value.
    ///
    /// - Returns: The new value, or why the value does not fit (a string where a number is needed).
    public func apply(_ value: JSONValue) -> Result<JSONValue, TransformFailure> {
        if value.isNull { return .success(.null) }
        switch self {
        case .scale(let factor):
            return number(value).map { .number(Self.multiply($0, by: factor)) }
        case .offset(let amount):
            return number(value).map { .number($0 + amount) }
        case .round(let decimals):
            return number(value).map { .number(ReadingValue.round($0, to: decimals)) }
        case .map(let table):
            return .success(Self.lookup(value, in: table) ?? value)
        case .invert:
            if case .bool(let flag) = value { return .success(.bool(!flag)) }
            return number(value).map { .number(-$0) }
        case .convert(let from, let to):
            return number(value).flatMap { number in
                guard let converted = UnitConversion.convert(number, from: from, to: to) else {
                    return .failure(TransformFailure(transform: name, message: "cannot convert \(from) to \(to)"))
                }
                return .success(.number(converted))
            }
        case .epoch(let unit):
            return number(value).flatMap { number in
                guard let text = Self.iso8601(epoch: number, unit: unit) else {
                    return .failure(TransformFailure(transform: name, message: "\(JSONValue.format(number)) is not a time"))
                }
                return .success(.string(text))
            }
        }
    }

    /// `2026-11-22T21:58:03Z` (with `.250` when the time has milliseconds), or nil outside
    /// 1970–9999 (a 0 from a device that has no clock yet is not a time either).
    static func iso8601(epoch value: Double, unit: EpochUnit) -> String? {
        let milliseconds: Double
        switch unit {
        case .s: milliseconds = value * 1000
        case .ms: milliseconds = value
        case .auto: milliseconds = value > 1e11 ? value : value * 1000
        }
        guard milliseconds.isFinite, milliseconds > 0, milliseconds < 253_402_300_800_000 else { return nil }
        let total = Int64(milliseconds.rounded())
        let (days, millisOfDay) = (total / 86_400_000, total % 86_400_000)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm, proleptic Gregorian).
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ number: Int64, _ width: Int) -> String {
            let digits = String(number)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let seconds = millisOfDay / 1000
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
        text += "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
        if millisOfDay % 1000 != 0 { text += ".\(pad(millisOfDay % 1000, 3))" }
        return text + "Z"
    }

    /// `value × factor`, dividing by the inverse when the factor is the reciprocal of a whole
    /// number (0.001, 0.1), so `52001 × 0.001` is `52.001` and not `52.001000000000005`.
    static func multiply(_ value: Double, by factor: Double) -> Double {
        guard factor != 0, abs(factor) < 1 else { return value * factor }
        let inverse = 1 / factor
        let whole = inverse.rounded()
        guard abs(inverse - whole) <= abs(whole) * 1e-12 else { return value * factor }
        return value / whole
    }

    private func number(_ value: JSONValue) -> Result<Double, TransformFailure> {
        if let number = value.numericValue { return .success(number) }
        return .failure(TransformFailure(transform: name, message: "expected a number, got \(value.shortDescription)"))
    }

    /// The replacement for `value`: by its exact text, else by numeric equality with a numeric key.
    static func lookup(_ value: JSONValue, in table: [String: JSONValue]) -> JSONValue? {
        if let exact = table[value.text] { return exact }
        guard let number = value.numericValue else { return nil }
        return table.first { key, _ in Double(key) == number }?.value
    }
}

/// A value that a transform cannot work on.
public struct TransformFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The transform's name (`scale`).
    public let transform: String
    /// What is wrong.
    public let message: String

    /// Creates a failure.
    public init(transform: String, message: String) {
        self.transform = transform
        self.message = message
    }

    /// `scale: expected a number, got a string ('abc')`.
    public var description: String { "\(transform): \(message)" }
}

extension Array where Element == ValueTransform {
    /// Applies the transforms in order, stopping at the first failure.
    public func apply(to value: JSONValue) -> Result<JSONValue, TransformFailure> {
        var current = value
        for transform in self {
            switch transform.apply(current) {
            case .success(let next): current = next
            case .failure(let failure): return .failure(failure)
            }
        }
        return .success(current)
    }
}
