import Foundation
import Testing

@testable import BridgeCore

@Suite("JSONValue")
struct JSONValueTests {
    @Test("Parses every JSON type from bytes")
    func parsesEveryType() throws {
        let value = try JSONValue(parsing: Data(#"{"a":[1,2.5,"x",true,null],"b":{"c":false}}"#.utf8))
        #expect(value == ["a": [1, 2.5, "x", true, nil], "b": ["c": false]])
    }

    @Test("Keeps booleans apart from numbers")
    func booleansAreNotNumbers() throws {
        #expect(try JSONValue(parsing: "true") == .bool(true))
        #expect(try JSONValue(parsing: "1") == .number(1))
        #expect(try JSONValue(parsing: "0") == .number(0))
    }

    @Test("A malformed document gives a clear error")
    func malformedDocument() {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: #"{"a": }"#) }
        do {
            _ = try JSONValue(parsing: #"{"a": }"#)
        } catch {
            #expect(error.description.hasPrefix("malformed JSON: "))
            #expect(error.description.count > "malformed JSON: ".count)
        }
        #expect(throws: JSONValue.ParseError(reason: "the document is empty")) { try JSONValue(parsing: "  \n") }
    }

    @Test("Renders integral numbers without a fraction and sorts keys")
    func rendering() {
        let value: JSONValue = ["b": 52000, "a": 230.1, "c": "q\"\n", "d": [true, nil], "e": -0.0]
        #expect(value.jsonString == #"{"a":230.1,"b":52000,"c":"q\"\n","d":[true,null],"e":0}"#)
        #expect(JSONValue.number(1e21).text == "1e+21")
        #expect(JSONValue.number(.nan).jsonString == "null")
    }

    @Test("Plain text of scalars")
    func plainText() {
        #expect(JSONValue.number(3).text == "3")
        #expect(JSONValue.number(0.25).text == "0.25")
        #expect(JSONValue.string("Charging").text == "Charging")
        #expect(JSONValue.bool(false).text == "false")
        #expect(JSONValue.null.text == "")
    }

    @Test("Reads numbers leniently from numeric strings")
    func numericStrings() {
        #expect(JSONValue.string(" 230.5 ").numericValue == 230.5)
        #expect(JSONValue.string("abc").numericValue == nil)
        #expect(JSONValue.string("nan").numericValue == nil)
        #expect(JSONValue.bool(true).numericValue == nil)
    }

    @Test("Round-trips through Codable with integers encoded as integers")
    func codable() throws {
        let value: JSONValue = ["n": 5, "x": 1.5, "s": "t", "l": [nil, false]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
        #expect(String(decoding: try JSONEncoder().encode(JSONValue.number(5)), as: UTF8.self) == "5")
    }

    @Test("Reads MQTT payloads as JSON when they are, else as text")
    func mqttPayload() {
        #expect(JSONValue(mqttPayload: "21") == .number(21))
        #expect(JSONValue(mqttPayload: "ON") == .string("ON"))
        #expect(JSONValue(mqttPayload: "true") == .bool(true))
        #expect(JSONValue(mqttPayload: #"{"a":1}"#) == ["a": 1])
        #expect(JSONValue(mqttPayload: "Hard reset") == .string("Hard reset"))
    }

    @Test("Writes numbers in payloads exactly as the shortest round-tripping text, also without formatting a String")
    func numberText() {
        // Decimals of up to four places take a path of their own; every number must still read
        // back as itself and print as Swift's shortest form, so compare both over many values.
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0.0001, 0.001, 0.5, -0.5, 3.456, -230.1, 999_999_999.9999, 0.00025, 1e-5, 1e9 + 0.5, 0.1 + 0.2, 7.4]
        for _ in 0..<20_000 {
            let decimals = Int.random(in: 0...6, using: &generator)
            let magnitude: Double = [1.0, 1e3, 1e6, 1e10].randomElement(using: &generator) ?? 1
            values.append(ReadingValue.round(Double.random(in: -magnitude...magnitude, using: &generator), to: decimals))
            values.append(Double.random(in: -1...1, using: &generator))
        }
        for value in values {
            let text = String(decoding: JSONValue.number(value).jsonBytes, as: UTF8.self)
            #expect(text == JSONValue.format(value), "\(value)")
            #expect(Double(text) == value, "\(value)")
        }
        #expect(String(decoding: JSONValue.number(3.4).jsonBytes, as: UTF8.self) == "3.4")
        #expect(String(decoding: JSONValue.number(-0.0625).jsonBytes, as: UTF8.self) == "-0.0625")
        #expect(String(decoding: JSONValue.number(12.05).jsonBytes, as: UTF8.self) == "12.05")
    }
}
