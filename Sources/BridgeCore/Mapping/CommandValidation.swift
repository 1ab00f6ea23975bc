#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a command payload must be before any HTTP call is made.
///
/// ```yaml
/// validate: { type: integer, min: 6, max: 32 }
/// validate: { type: enum, options: [Soft, Hard] }
/// validate: { type: string, max_length: 20, pattern: "[A-Z0-9]+" }
/// ```
///
/// Without `validate:`, the kind follows the component: `switch` → boolean, `number` →
/// number within `min`/`max`, `select` → enum of `options`, `text` → string, `button` → enum
/// of Home Assistant's `payload_press` (`PRESS`) only.
///
/// A payload comes in one of two forms, and the form decides how its type is read:
/// - a plain MQTT payload (`<device>/<entity>/set` with `21`, `ON`, `Europe/Helsinki`) is text:
///   ``validate(text:)`` reads it as the kind asks, so a text command keeps `1.50` or `true`
///   as written;
/// - JSON (`{"<entity>": value}` on `<device>/set`, `{"value": …}` on the entity topic) is typed:
///   ``validate(_:)`` takes the JSON type at its word, so `{"timezone": true}` is no text.
///
/// Numbers are decimal only, as JSON writes them (`16`, `-0.5`, `1.6e1`, also as a string):
/// no hexadecimal (`0x10`, `0x1p3`), no `NaN` or infinities, nothing that overflows a Double.
public struct CommandValidation: Sendable, Hashable {
    /// The type a payload must have.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// On/off: `ON`/`OFF`, `true`/`false`, `1`/`0`, `on`/`off`, `yes`/`no` → a JSON boolean.
        case boolean
        /// A whole decimal number (a numeric string is accepted) → a JSON number.
        case integer
        /// Any finite decimal number (a numeric string is accepted) → a JSON number.
        case number
        /// Text: a JSON string, or a plain payload's text as written.
        case string
        /// One of `options`, compared exactly → a JSON string.
        case `enum`
        /// Anything (a command without a component); the payload passes unchanged.
        case none
    }

    /// Home Assistant's `payload_press`: what discovery announces for every button, and the
    /// only payload a button accepts.
    public static let pressPayload = "PRESS"

    /// A button's validation: ``pressPayload`` and nothing else (as a plain payload, a JSON
    /// string, `{"value": "PRESS"}` or `{"<button>": "PRESS"}`).
    public static let press = CommandValidation(kind: .enum, options: [pressPayload])

    /// The type a payload must have.
    public var kind: Kind
    /// Lowest accepted number.
    public var min: Double?
    /// Highest accepted number.
    public var max: Double?
    /// The accepted values of an enum.
    public var options: [String]?
    /// A regular expression the whole text must match (strings).
    public var pattern: String?
    /// The most characters a string may have.
    public var maxLength: Int?

    /// Creates a validation.
    public init(
        kind: Kind,
        min: Double? = nil,
        max: Double? = nil,
        options: [String]? = nil,
        pattern: String? = nil,
        maxLength: Int? = nil
    ) {
        self.kind = kind
        self.min = min
        self.max = max
        self.options = options
        self.pattern = pattern
        self.maxLength = maxLength
    }

    /// The kind a component implies when a command has no `validate:`.
    public static func defaultKind(for component: HAComponent?) -> Kind {
        switch component {
        case .switch, .binarySensor: .boolean
        case .number: .number
        case .select, .button: .enum
        case .text: .string
        default: .none
        }
    }

    /// The validation a component implies when a command has no `validate:` (a button's is
    /// ``press``; a select's options are filled in from the command).
    public static func defaultValidation(for component: HAComponent?) -> CommandValidation {
        component == .button ? press : CommandValidation(kind: defaultKind(for: component))
    }

    /// Checks a typed JSON value (`{"<entity>": value}`, `{"value": …}`) and normalises it to the
    /// JSON value the call template receives: a string command takes only a JSON string, a
    /// number command a JSON number or a string holding a decimal number.
    ///
    /// - Returns: The normalised value, or a one-line reason fit for the command's result.
    public func validate(_ value: JSONValue) -> Result<JSONValue, ValidationFailure> {
        switch kind {
        case .none:
            return .success(value)
        case .boolean:
            return Self.boolean(value).map(JSONValue.bool)
        case .integer:
            guard let number = Self.decimal(value), number == number.rounded() else {
                return .failure(ValidationFailure(message: "expected a whole number, got \(Self.shown(value))"))
            }
            return checkRange(number)
        case .number:
            guard let number = Self.decimal(value) else {
                return .failure(ValidationFailure(message: "expected a number, got \(Self.shown(value))"))
            }
            return checkRange(number)
        case .string:
            guard case .string(let text) = value else {
                return .failure(ValidationFailure(message: "expected text, got \(value.kindDescription)"))
            }
            return string(text)
        case .enum:
            guard case .string(let text) = value else { return enumFailure(value) }
            return option(text, shown: value)
        }
    }

    /// Checks a plain MQTT payload (its text, already trimmed) and normalises it.
    ///
    /// The text is read as JSON when it is JSON (`21`, `"Fast"`, `true`), otherwise as itself
    /// (`ON`, `Fast`); a string or enum command takes a plain payload as written (`1.50`, `007`,
    /// `true` are text), or a JSON string's content.
    public func validate(text: String) -> Result<JSONValue, ValidationFailure> {
        let value = JSONValue(mqttPayload: text)
        switch kind {
        case .none, .boolean, .integer, .number:
            return validate(value)
        case .string, .enum:
            let plain: String
            switch value {
            case .string(let content): plain = content
            case .null, .bool, .number: plain = text
            case .array, .object:
                return kind == .string
                    ? .failure(ValidationFailure(message: "expected text, got \(value.kindDescription)"))
                    : enumFailure(value)
            }
            return kind == .string ? string(plain) : option(plain, shown: .string(plain))
        }
    }

    /// A finite decimal number: a JSON number, or a string holding one (`"21.5"`).
    private static func decimal(_ value: JSONValue) -> Double? {
        switch value {
        case .number(let number): number.isFinite ? number : nil
        case .string(let text): JSONValue.decimalNumber(text)
        default: nil
        }
    }

    private func option(_ text: String, shown value: JSONValue) -> Result<JSONValue, ValidationFailure> {
        guard (options ?? []).contains(text) else { return enumFailure(value) }
        return .success(.string(text))
    }

    private func enumFailure(_ value: JSONValue) -> Result<JSONValue, ValidationFailure> {
        .failure(ValidationFailure(message: "expected one of \((options ?? []).joined(separator: ", ")), got \(Self.shown(value))"))
    }

    private func checkRange(_ number: Double) -> Result<JSONValue, ValidationFailure> {
        let shown = JSONValue.format(number)
        switch (min, max) {
        case (let low?, let high?) where number < low || number > high:
            return .failure(ValidationFailure(
                message: "must be between \(JSONValue.format(low)) and \(JSONValue.format(high)), got \(shown)"
            ))
        case (let low?, nil) where number < low:
            return .failure(ValidationFailure(message: "must be at least \(JSONValue.format(low)), got \(shown)"))
        case (nil, let high?) where number > high:
            return .failure(ValidationFailure(message: "must be at most \(JSONValue.format(high)), got \(shown)"))
        default:
            return .success(.number(number))
        }
    }

    private func string(_ text: String) -> Result<JSONValue, ValidationFailure> {
        let value = JSONValue.string(text)
        if let maxLength, text.count > maxLength {
            return .failure(ValidationFailure(message: "must be at most \(maxLength) characters, got \(text.count)"))
        }
        if let pattern {
            guard let regex = try? Regex(pattern), (try? regex.wholeMatch(in: text)) != nil else {
                return .failure(ValidationFailure(message: "must match the pattern \(pattern), got \(Self.shown(value))"))
            }
        }
        return .success(.string(text))
    }

    /// On/off words accepted for booleans, lower-cased.
    static let trueWords: Set<String> = ["on", "true", "1", "yes"]
    /// Off words.
    static let falseWords: Set<String> = ["off", "false", "0", "no"]

    private static func boolean(_ value: JSONValue) -> Result<Bool, ValidationFailure> {
        switch value {
        case .bool(let flag):
            return .success(flag)
        case .number(let number) where number == 0 || number == 1:
            return .success(number == 1)
        case .string(let text):
            let word = text.trimmingWhitespace().lowercased()
            if trueWords.contains(word) { return .success(true) }
            if falseWords.contains(word) { return .success(false) }
        default:
            break
        }
        return .failure(ValidationFailure(message: "expected ON or OFF (or true/false), got \(shown(value))"))
    }

    /// A payload as an error message shows it: quoted, control characters escaped, cut at 40
    /// characters (the message goes into the result and the log).
    static func shown(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .array, .object: return value.kindDescription
        default: return "'" + LogText.escaped(value.text, limit: 40) + "'"
        }
    }
}

/// Why a command payload was refused; its description goes into the command's result.
public struct ValidationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// One line, such as `must be between 6 and 32, got 40`.
    public let message: String

    /// Creates a failure.
    public init(message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
