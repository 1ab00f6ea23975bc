import Foundation

/// What a command payload must be before any HTTP call is made.
///
/// ```yaml
/// validate: { type: integer, min: 6, max: 32 }
/// validate: { type: enum, options: [Soft, Hard] }
/// validate: { type: string, max_length: 20, pattern: "[A-Z0-9]+" }
/// ```
///
/// Without `validate:`, the kind follows the component: `switch` → boolean, `number` →
/// number within `min`/`max`, `select` → enum of `options`, `text` → string, `button` → none.
public struct CommandValidation: Sendable, Hashable {
    /// The type a payload must have.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// On/off: `ON`/`OFF`, `true`/`false`, `1`/`0`, `on`/`off`, `yes`/`no` → a JSON boolean.
        case boolean
        /// A whole number (a numeric string is accepted) → a JSON number.
        case integer
        /// Any finite number (a numeric string is accepted) → a JSON number.
        case number
        /// Text; numbers and booleans are taken as their text.
        case string
        /// One of `options`, compared exactly → a JSON string.
        case `enum`
        /// Anything (a button press); the payload passes unchanged.
        case none
    }

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
        case .select: .enum
        case .text: .string
        default: .none
        }
    }

    /// Checks a payload and normalises it to the JSON value the call template receives.
    ///
    /// - Parameter value: The payload as JSON: a plain MQTT payload is read with
    ///   ``JSONValue/init(mqttPayload:)`` first, so `ON` arrives as a string and `21` as a number.
    /// - Returns: The normalised value, or a one-line reason fit for the command's result.
    public func validate(_ value: JSONValue) -> Result<JSONValue, ValidationFailure> {
        switch kind {
        case .none:
            return .success(value)
        case .boolean:
            return Self.boolean(value).map(JSONValue.bool)
        case .integer:
            guard let number = value.numericValue, number == number.rounded() else {
                return .failure(ValidationFailure(message: "expected a whole number, got \(Self.shown(value))"))
            }
            return checkRange(number)
        case .number:
            guard let number = value.numericValue else {
                return .failure(ValidationFailure(message: "expected a number, got \(Self.shown(value))"))
            }
            return checkRange(number)
        case .string:
            return string(value)
        case .enum:
            let options = options ?? []
            guard let text = Self.scalarText(value), options.contains(text) else {
                return .failure(ValidationFailure(
                    message: "expected one of \(options.joined(separator: ", ")), got \(Self.shown(value))"
                ))
            }
            return .success(.string(text))
        }
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

    private func string(_ value: JSONValue) -> Result<JSONValue, ValidationFailure> {
        guard let text = Self.scalarText(value) else {
            return .failure(ValidationFailure(message: "expected text, got \(value.kindDescription)"))
        }
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
            let word = text.trimmingCharacters(in: .whitespaces).lowercased()
            if trueWords.contains(word) { return .success(true) }
            if falseWords.contains(word) { return .success(false) }
        default:
            break
        }
        return .failure(ValidationFailure(message: "expected ON or OFF (or true/false), got \(shown(value))"))
    }

    /// The text of a string, number or boolean; `nil` for null, arrays and objects.
    private static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string, .number, .bool: value.text
        case .null, .array, .object: nil
        }
    }

    /// A payload as an error message shows it: quoted, cut at 40 characters.
    static func shown(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .array, .object: return value.kindDescription
        default:
            let text = value.text
            return "'" + (text.count > 40 ? String(text.prefix(40)) + "…" : text) + "'"
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
