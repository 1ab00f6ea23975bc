import Testing

@testable import BridgeCore

@Suite("ReadingValue")
struct ReadingValueTests {
    @Test("Renders numbers with the requested precision", arguments: [
        (230.09999999, 1 as Int?, "230.1"),
        (230.09999999, nil, "230.09999999"),
        (52000, 2, "52000"),
        (0.1 + 0.2, 2, "0.3"),
        (3.14159, 3, "3.142"),
        (-0.04, 1, "0"),
        (1234.5, 0, "1235"),
        (0.000123, 5, "0.00012"),
    ])
    func numbers(value: Double, precision: Int?, expected: String) {
        #expect(ReadingValue.number(value, precision: precision).rendered == expected)
    }

    @Test("Renders booleans as ON/OFF and null as None")
    func otherValues() {
        #expect(ReadingValue.bool(true).rendered == "ON")
        #expect(ReadingValue.bool(false).rendered == "OFF")
        #expect(ReadingValue.null.rendered == "None")
        #expect(ReadingValue.string("Charging").rendered == "Charging")
    }

    @Test("Gives the JSON value for the device's state object, rounded")
    func jsonValue() {
        #expect(ReadingValue.number(230.09999999, precision: 1).jsonValue == .number(230.1))
        #expect(ReadingValue.bool(true).jsonValue == .bool(true))
        #expect(ReadingValue.null.jsonValue == .null)
    }
}
