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

    /// The names a mapping file may use, in the order documentation lists them.
    public static let names = ["scale", "offset", "round", "map", "invert", "convert"]

    /// The transform as a mapping file would write it.
    public var description: String {
        switch self {
        case .scale(let factor): "scale: \(JSONValue.format(factor))"
        case .offset(let amount): "offset: \(JSONValue.format(amount))"
        case .round(let decimals): "round: \(decimals)"
        case .map(let table): "map: \(JSONValue.object(table).jsonString)"
        case .invert: "invert: true"
        case .convert(let from, let to): "convert: { from: \(from), to: \(to) }"
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
        }
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
