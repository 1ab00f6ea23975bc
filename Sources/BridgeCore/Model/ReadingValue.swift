#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A normalised value of one entity, already scaled to the mapping's unit.
public enum ReadingValue: Sendable, Hashable {
    /// A number in the mapping's unit, with the decimals the mapping asks for (`precision`),
    /// or `nil` to keep every digit.
    case number(Double, precision: Int?)
    /// Text: an enum option, a status, an address.
    case string(String)
    /// An on/off state.
    case bool(Bool)
    /// No value: Home Assistant shows "unknown".
    case null

    /// The MQTT payload for a single-value topic (`<base>/<device>/<entity>`).
    ///
    /// - Numbers are rounded to their precision and written in the shortest form that reads
    ///   back the same: `230.1`, not `230.09999999`; `52000`, not `52000.0`.
    /// - Booleans are `ON` / `OFF`, Home Assistant's default `payload_on` / `payload_off`.
    /// - `null` is `None`, which Home Assistant's MQTT entities read as "unknown".
    public var rendered: String {
        switch self {
        case .number(let value, let precision): JSONValue.format(Self.round(value, to: precision))
        case .string(let value): value
        case .bool(let value): value ? "ON" : "OFF"
        case .null: "None"
        }
    }

    /// The value for the device's JSON state object (`<base>/<device>`): numbers rounded to
    /// their precision, booleans as JSON booleans, `null` as JSON `null`.
    public var jsonValue: JSONValue {
        switch self {
        case .number(let value, let precision): .number(Self.round(value, to: precision))
        case .string(let value): .string(value)
        case .bool(let value): .bool(value)
        case .null: .null
        }
    }

    /// The number, when this is a number (rounded to its precision).
    public var numberValue: Double? {
        if case .number(let value, let precision) = self { return Self.round(value, to: precision) }
        return nil
    }

    /// Rounds half away from zero to `precision` decimals; `nil` or an out-of-range precision
    /// leaves the value as it is. The result is the double nearest the decimal, so it prints
    /// as that decimal.
    public static func round(_ value: Double, to precision: Int?) -> Double {
        guard let precision, (0...15).contains(precision), value.isFinite else { return value }
        let factor = powersOfTen[precision]
        let scaled = (value * factor).rounded(.toNearestOrAwayFromZero)
        guard scaled.isFinite else { return value }
        let result = scaled / factor
        return result == 0 ? 0 : result  // no "-0"
    }

    /// 10^0 … 10^15, exact (every one is an integer below 2^53; rounding runs for every
    /// numeric reading, so no `pow` per call).
    private static let powersOfTen: [Double] = (0...15).map { exponent in
        (0..<exponent).reduce(1.0) { power, _ in power * 10 }
    }
}
