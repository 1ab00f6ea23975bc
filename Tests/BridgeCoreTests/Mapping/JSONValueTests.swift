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

    @Test("Strings: copied whole when nothing needs escaping, escaped byte by byte otherwise (short, long, non-ASCII)")
    func stringEscaping() {
        let long = String(repeating: "Connector CP0001_1 ", count: 40)
        #expect(JSONValue.string("plain").jsonString == #""plain""#)
        #expect(JSONValue.string(long).jsonString == "\"" + long + "\"")
        #expect(JSONValue.string("Zähler ⚡️ 1").jsonString == "\"Zähler ⚡️ 1\"")
        #expect(JSONValue.string(long + "\"\\\u{1}\t\u{7F}").jsonString == "\"" + long + #"\"\\\u0001\t\u007f""#)
        #expect(JSONValue.string("a\"b").jsonString == #""a\"b""#)
        // A substring's copy and a string built from a character array take the same paths.
        #expect(JSONValue.string(String(long.dropFirst(10))).jsonString == "\"" + long.dropFirst(10) + "\"")
        #expect(JSONValue.string(String(Array("ab\ncd"))).jsonString == #""ab\ncd""#)
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

    @Test("The parser agrees with Foundation's JSONDecoder on thousands of random documents")
    func parserAgreesWithFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        func randomString() -> String {
            let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "é", "€", "😀", "\u{7F}", "\u{2028}", "key"]
            return (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
        }
        func randomValue(depth: Int) -> JSONValue {
            switch Int.random(in: 0...(depth > 3 ? 3 : 5), using: &generator) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2:
                let choices: [Double] = [
                    0, -0.5, 1e-7, 123_456_789.125, -1e300, 9_007_199_254_740_992, Double.random(in: -1e6...1e6, using: &generator),
                ]
                return .number(choices.randomElement(using: &generator) ?? 0)
            case 3: return .string(randomString())
            case 4: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(depth: depth + 1) })
            default:
                var members: [String: JSONValue] = [:]
                for _ in 0..<Int.random(in: 0...4, using: &generator) { members[randomString()] = randomValue(depth: depth + 1) }
                return .object(members)
            }
        }
        let encoder = JSONEncoder()
        for round in 0..<3_000 {
            let value = randomValue(depth: 0)
            // Foundation writes the text (escapes, exponents, `\/`); both read it back.
            let text = try encoder.encode(value)
            let ours = try JSONValue(parsing: text)
            let foundation = try JSONDecoder().decode(JSONValue.self, from: text)
            #expect(ours == foundation, "round \(round): \(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test("The parser reads what RFC 8259 allows: escapes, surrogate pairs, exponents, whitespace, scalars")
    func parserAccepts() throws {
        #expect(try JSONValue(parsing: #" {"a" : [ 1 , -0.5e+2 , 2E-1 , 0 ] } "#) == ["a": [1, -50, 0.2, 0]])
        #expect(
            try JSONValue(parsing: #""\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00\u0000""#) == .string("\"\\/\u{8}\u{C}\n\r\té€😀\u{0}"))
        #expect(try JSONValue(parsing: "\"é😀\"") == .string("é😀"))
        #expect(try JSONValue(parsing: #"{"k":1,"k":2}"#) == ["k": 2], "a repeated key keeps its last value")
        #expect(try JSONValue(parsing: "[[],{},\"\"]") == [[], [:], ""])
        #expect(try JSONValue(parsing: "\t\r\n null \n") == .null)
        #expect(try JSONValue(parsing: "-0") == .number(0))
        #expect(try JSONValue(parsing: "1.7976931348623157e308") == .number(.greatestFiniteMagnitude))
        let deep = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONValue(parsing: deep) }
    }

    @Test("The parser refuses what RFC 8259 does not allow, with a position, and never crashes on hostile nesting")
    func parserRefuses() {
        let refused: [(String, String)] = [
            ("{\"a\": }", "unexpected character '}' at line 1, column 7"),
            ("[1,]", "unexpected character ']' at line 1, column 4"),
            ("{\"a\":1,}", "unexpected character '}'"),
            ("{'a':1}", "unexpected character '''"),
            ("[1 2]", "unexpected character '2', expected ',' or ']'"),
            ("01", "leading zero"),
            ("1.", "expected a digit after the decimal point"),
            ("1e", "expected a digit in the exponent"),
            (".5", "unexpected character '.'"),
            ("+1", "unexpected character '+'"),
            ("0x10", "unexpected text after the document"),
            ("NaN", "unexpected character 'N'"),
            ("1e400", "does not fit a Double"),
            ("tru", "unexpected character 't'"),
            ("\"a\nb\"", "unescaped control character"),
            ("\"abc", "unterminated string"),
            (#""\x""#, "invalid escape '\\x'"),
            (#""\u12""#, "escape"),
            (#""\ud83d""#, "lone surrogate"),
            (#""\ude00""#, "lone surrogate"),
            (#""\ud83d\u0041""#, "lone surrogate"),
            ("{\"a\":1}\n{\"b\":2}", "unexpected text after the document at line 2, column 1"),
            ("5\u{0}garbage", "unexpected text after the document"),
            ("", "the document is empty"),
        ]
        for (text, reason) in refused {
            do {
                let value = try JSONValue(parsing: text)
                Issue.record("\(text.debugDescription) parsed as \(value)")
            } catch {
                #expect(error.reason.contains(reason), "\(text.debugDescription): \(error.reason)")
            }
        }
        // Invalid UTF-8 inside a string.
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22] as [UInt8]) }
        // Nesting far beyond the limit is an error, not a stack overflow.
        for opener in ["[", "{\"a\":"] {
            let hostile = String(repeating: opener, count: 100_000)
            #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: hostile) }
        }
        let tooDeep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: tooDeep) }
    }
}
