import Testing

@testable import BridgeCore

@Suite("ValueTransform")
struct ValueTransformTests {
    private func apply(_ transform: ValueTransform, _ value: JSONValue) -> JSONValue? {
        try? transform.apply(value).get()
    }

    @Test("scale multiplies, exactly for reciprocal factors")
    func scale() {
        #expect(apply(.scale(0.001), 52001) == .number(52.001))
        #expect(apply(.scale(1000), 1.5) == .number(1500))
        #expect(apply(.scale(0.1), "2305") == .number(230.5))
    }

    @Test("offset adds")
    func offset() {
        #expect(apply(.offset(-273.15), 300) == .number(300 - 273.15))
        #expect(apply(.offset(40), -5) == .number(35))
    }

    @Test("round rounds half away from zero")
    func round() {
        #expect(apply(.round(1), 230.09999999) == .number(230.1))
        #expect(apply(.round(0), 2.5) == .number(3))
        #expect(apply(.round(0), -2.5) == .number(-3))
        #expect(apply(.round(2), 1.005) == .number(1.0))
    }

    @Test("map replaces matched values and passes the rest")
    func map() {
        let table: ValueTransform = .map(["CHARGING": true, "IDLE": false, "1": "on"])
        #expect(apply(table, "CHARGING") == .bool(true))
        #expect(apply(table, "IDLE") == .bool(false))
        #expect(apply(table, "FAULT") == .string("FAULT"))
        #expect(apply(table, 1) == .string("on"))
        #expect(apply(table, 1.0) == .string("on"))
        #expect(apply(.map(["1.0": "x"]), 1) == .string("x"))
    }

    @Test("invert negates booleans and numbers")
    func invert() {
        #expect(apply(.invert, true) == .bool(false))
        #expect(apply(.invert, -1500) == .number(1500))
        #expect(apply(.invert, "12") == .number(-12))
        #expect(apply(.invert, "maybe") == nil)
    }

    @Test("convert changes units of one quantity")
    func convert() {
        #expect(apply(.convert(from: "Wh", to: "kWh"), 1500) == .number(1.5))
        #expect(apply(.convert(from: "mV", to: "V"), 3250) == .number(3.25))
        #expect(apply(.convert(from: "kW", to: "W"), 1.2) == .number(1200))
        #expect(apply(.convert(from: "°F", to: "°C"), 212) == .number(100))
        #expect(apply(.convert(from: "B/s", to: "bit/s"), 100) == .number(800))
        #expect(apply(.convert(from: "min", to: "s"), 2) == .number(120))
        #expect(apply(.convert(from: "W", to: "Wh"), 1) == nil)
        #expect(!UnitConversion.canConvert(from: "W", to: "kWh"))
        #expect(UnitConversion.canConvert(from: "kvarh", to: "varh"))
    }

    @Test("epoch turns Unix seconds or milliseconds into ISO 8601 UTC; auto tells them apart at 1e11")
    func epoch() {
        #expect(apply(.epoch(.s), 1_735_682_400) == .string("2024-12-31T22:00:00Z"))
        #expect(apply(.epoch(.ms), 1_735_682_400_250) == .string("2024-12-31T22:00:00.250Z"))
        #expect(apply(.epoch(.auto), 1_735_682_400) == .string("2024-12-31T22:00:00Z"))
        #expect(apply(.epoch(.auto), 1_735_682_400_000) == .string("2024-12-31T22:00:00Z"))
        #expect(apply(.epoch(.auto), "1735682400000") == .string("2024-12-31T22:00:00Z"))
        // Leap days and century rules of the civil calendar.
        #expect(apply(.epoch(.s), 951_782_400) == .string("2000-02-29T00:00:00Z"))
        #expect(apply(.epoch(.s), 4_107_542_399) == .string("2100-02-28T23:59:59Z"))
        #expect(apply(.epoch(.s), 1) == .string("1970-01-01T00:00:01Z"))
        // No clock yet, or not a time at all: a failure, never a made-up date.
        #expect(apply(.epoch(.auto), 0) == nil)
        #expect(apply(.epoch(.ms), -5) == nil)
        #expect(apply(.epoch(.s), 1e300) == nil)
        #expect(apply(.epoch(.s), "soon") == nil)
        #expect(ValueTransform.epoch(.auto).description == "epoch: auto")
    }

    @Test("A string where a number is needed is a failure, not a crash")
    func typeMismatch() {
        let result = ValueTransform.scale(0.001).apply("abc")
        #expect(result == .failure(TransformFailure(transform: "scale", message: "expected a number, got a string ('abc')")))
    }

    @Test("null passes through every transform")
    func nullPasses() {
        for transform: ValueTransform in [.scale(2), .offset(1), .round(1), .map(["a": 1]), .invert, .convert(from: "W", to: "kW"), .epoch(.auto)] {
            #expect(apply(transform, nil) == .null)
        }
    }

    @Test("A chain applies in order and stops at the first failure")
    func chain() throws {
        let chain: [ValueTransform] = [.scale(0.1), .offset(-40), .round(1)]
        #expect(try chain.apply(to: 653).get() == .number(25.3))
        #expect((try? [ValueTransform.map(["x": "y"]), .scale(2)].apply(to: "x").get()) == nil)
    }
}
