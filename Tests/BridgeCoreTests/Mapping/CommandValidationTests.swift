import Testing

@testable import BridgeCore

@Suite("CommandValidation")
struct CommandValidationTests {
    /// Validates a plain MQTT payload.
    private func validate(_ validation: CommandValidation, _ payload: String) -> Result<JSONValue, ValidationFailure> {
        validation.validate(text: payload)
    }

    private func failure(_ message: String) -> Result<JSONValue, ValidationFailure> {
        .failure(ValidationFailure(message: message))
    }

    @Test("Booleans accept ON/OFF, true/false, 1/0 in any case", arguments: [
        ("ON", true), ("off", false), ("true", true), ("FALSE", false), ("1", true), ("0", false), ("yes", true),
        (#""on""#, true),
    ])
    func booleans(payload: String, expected: Bool) {
        #expect(validate(CommandValidation(kind: .boolean), payload) == .success(.bool(expected)))
    }

    @Test("Booleans refuse anything else")
    func booleanFailures() {
        let validation = CommandValidation(kind: .boolean)
        #expect(validate(validation, "maybe") == failure("expected ON or OFF (or true/false), got 'maybe'"))
        #expect(validate(validation, "2") == failure("expected ON or OFF (or true/false), got '2'"))
        #expect(validate(validation, "{}") == failure("expected ON or OFF (or true/false), got an object"))
    }

    @Test("Integers accept whole numbers and numeric strings within range")
    func integers() {
        let validation = CommandValidation(kind: .integer, min: 6, max: 32)
        #expect(validate(validation, "16") == .success(.number(16)))
        #expect(validate(validation, #""16""#) == .success(.number(16)))
        #expect(validation.validate(.number(16.0)) == .success(.number(16)))
        #expect(validate(validation, "16.5") == failure("expected a whole number, got '16.5'"))
        #expect(validate(validation, "40") == failure("must be between 6 and 32, got 40"))
        #expect(validate(validation, "abc") == failure("expected a whole number, got 'abc'"))
        #expect(validate(CommandValidation(kind: .integer, min: 1), "0") == failure("must be at least 1, got 0"))
        #expect(validate(CommandValidation(kind: .integer, max: 10), "11") == failure("must be at most 10, got 11"))
    }

    @Test("Numbers accept any finite number within range")
    func numbers() {
        let validation = CommandValidation(kind: .number, min: 0, max: 2.5)
        #expect(validate(validation, "1.25") == .success(.number(1.25)))
        #expect(validate(validation, "2.6") == failure("must be between 0 and 2.5, got 2.6"))
        #expect(validate(validation, "ON") == failure("expected a number, got 'ON'"))
        #expect(validate(validation, "null") == failure("expected a number, got null"))
    }

    @Test("Strings check length and pattern; numbers are taken as text")
    func strings() {
        let validation = CommandValidation(kind: .string, pattern: "[A-Z0-9]+", maxLength: 8)
        #expect(validate(validation, "TAG001") == .success(.string("TAG001")))
        #expect(validate(validation, "123") == .success(.string("123")))
        #expect(validate(validation, "TAG0000001") == failure("must be at most 8 characters, got 10"))
        #expect(validate(validation, "tag") == failure("must match the pattern [A-Z0-9]+, got 'tag'"))
        #expect(validate(validation, "[1]") == failure("expected text, got an array"))
    }

    @Test("Enums accept exactly one of their options")
    func enums() {
        let validation = CommandValidation(kind: .enum, options: ["Soft", "Hard"])
        #expect(validate(validation, "Hard") == .success(.string("Hard")))
        #expect(validate(validation, "hard") == failure("expected one of Soft, Hard, got 'hard'"))
        #expect(validate(CommandValidation(kind: .enum, options: ["1", "2"]), "2") == .success(.string("2")))
    }

    @Test("none accepts any payload unchanged")
    func none() {
        #expect(validate(CommandValidation(kind: .none), "PRESS") == .success(.string("PRESS")))
        #expect(validate(CommandValidation(kind: .none), #"{"a":1}"#) == .success(["a": 1]))
    }

    @Test("A component implies a kind when validate is not written")
    func defaultKinds() {
        #expect(CommandValidation.defaultKind(for: .switch) == .boolean)
        #expect(CommandValidation.defaultKind(for: .number) == .number)
        #expect(CommandValidation.defaultKind(for: .select) == .enum)
        #expect(CommandValidation.defaultKind(for: .text) == .string)
        #expect(CommandValidation.defaultKind(for: .button) == .enum)
        #expect(CommandValidation.defaultKind(for: nil) == .none)
        #expect(CommandValidation.defaultValidation(for: .button) == CommandValidation(kind: .enum, options: ["PRESS"]))
        #expect(CommandValidation.defaultValidation(for: .text) == CommandValidation(kind: .string))
    }

    @Test("A button accepts PRESS only, plain or as a JSON string")
    func press() {
        #expect(validate(.press, "PRESS") == .success("PRESS"))
        #expect(validate(.press, #""PRESS""#) == .success("PRESS"))
        #expect(CommandValidation.press.validate("PRESS") == .success("PRESS"))
        for payload in ["press", "RESTART", "", "1", "true", #"{"a": 1}"#, "PRESS!", "null"] {
            let shown = payload.hasPrefix("{") ? "an object" : "'\(payload)'"
            #expect(validate(.press, payload) == failure("expected one of PRESS, got \(shown)"))
        }
        #expect(CommandValidation.press.validate(.bool(true)) == failure("expected one of PRESS, got 'true'"))
    }

    @Test("Typed JSON is taken at its word: a boolean or number is no text, no enum option")
    func typedJSON() {
        let text = CommandValidation(kind: .string)
        #expect(text.validate(.bool(true)) == failure("expected text, got a boolean"))
        #expect(text.validate(.number(5)) == failure("expected text, got a number"))
        #expect(text.validate("UTC") == .success("UTC"))
        let options = CommandValidation(kind: .enum, options: ["1", "2"])
        #expect(options.validate(.number(1)) == failure("expected one of 1, 2, got '1'"))
        #expect(options.validate("1") == .success("1"))
        // A plain payload is its text, as written.
        #expect(text.validate(text: "1.50") == .success("1.50"))
        #expect(text.validate(text: "true") == .success("true"))
        #expect(text.validate(text: "null") == .success("null"))
    }

    @Test(
        "Numbers are decimal only",
        arguments: [
            "0x1", "0x1p3", "0X10", "nan", "NaN", "inf", "-Infinity", "1e309", "-1e309", "1_000", "١", "+", "-", ".", "e5", "1e",
            "1e+", "5 A", "0b1", "1,5", "\u{0}5",
        ])
    func decimalOnly(_ text: String) {
        #expect(JSONValue.decimalNumber(text) == nil)
        let expected = failure("expected a number, got '\(LogText.escaped(text, limit: 40))'")
        #expect(CommandValidation(kind: .number).validate(.string(text)) == expected)
    }

    @Test(
        "Decimal numbers are read",
        arguments: [("16", 16.0), ("-0.5", -0.5), ("+3", 3), ("1.6e1", 16), (".5", 0.5), ("5.", 5), (" 21 ", 21), ("2.5E-1", 0.25)])
    func decimals(_ text: String, _ expected: Double) {
        #expect(JSONValue.decimalNumber(text) == expected)
    }
}
