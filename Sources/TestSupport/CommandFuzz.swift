import BridgeCore
import Foundation

/// A small deterministic random number generator (SplitMix64) for fuzzing: a seed replays a run.
public struct FuzzRandom: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Command payloads and topics for fuzzing the command path, shared by the router's seeded fuzz
/// test (`CommandFuzzTests`) and the long fault suite (`Benchmarks/FaultSuite`), which sends them
/// through a real broker to the real executable.
///
/// Two generators: ``nextCase(targets:strangeTopics:base:_:)`` mixes valid commands with garbage
/// (the router test checks the verdict of each), ``invalidCase(_:targets:base:_:)`` makes only
/// invalid ones, by class, each of which must get one error result and make no call.
public enum CommandFuzz {
    /// What a fuzz target accepts: a few known-valid payloads and the kinds of garbage that apply.
    public struct Target: Sendable {
        public enum Kind: Sendable { case boolean, number, text, enumeration, button }
        public var topic: String
        /// The entity id, for the device-level form.
        public var entity: String
        public var kind: Kind
        public var valid: [String]

        public init(topic: String, entity: String, kind: Kind, valid: [String]) {
            self.topic = topic
            self.entity = entity
            self.kind = kind
            self.valid = valid
        }

        /// The device level of `topic` (`<base>/<device>/<entity>/set`).
        public var device: String { String(topic.split(separator: "/")[1]) }
    }

    /// The commands of the Cozify HAN mapping (`Mappings/cozify_han.yaml`) for a source `device`.
    public static func hanTargets(base: String = "api2mqtt", device: String = "han") -> [Target] {
        [
            Target(topic: "\(base)/\(device)/spot_price/set", entity: "spot_price", kind: .boolean, valid: ["ON", "OFF", "true", "false", "on", "0", "1"]),
            Target(topic: "\(base)/\(device)/fixed_price/set", entity: "fixed_price", kind: .number, valid: ["0", "0.125", "10", "9.999", "1e0", "2.5E-1"]),
            Target(topic: "\(base)/\(device)/main_fuse/set", entity: "main_fuse", kind: .number, valid: ["6", "16", "250", "25.0", "1.6e1"]),
            Target(
                topic: "\(base)/\(device)/timezone/set", entity: "timezone", kind: .text,
                valid: ["UTC", "Europe/Helsinki", "America/Argentina/Buenos_Aires", "Etc/GMT+2"]),
            Target(topic: "\(base)/\(device)/scan_wifi_networks/set", entity: "scan_wifi_networks", kind: .button, valid: ["PRESS"]),
        ]
    }

    /// Whether the timezone command (`max_length: 64` and a pattern) takes `text`: some garbage
    /// words (`maybe`, `null`, `Turbo`) are valid zone-shaped text.
    public static func timezoneAccepts(_ text: String) -> Bool {
        text.count <= 64 && text.wholeMatch(of: /[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*/) != nil
    }

    /// Whether a plain payload of garbage is valid for the target after all (only zone-shaped text is).
    public static func plainAccepted(_ target: Target, _ payload: String) -> Bool {
        guard target.kind == .text else { return false }
        let text = payload.trimmingCharacters(in: .whitespacesAndNewlines)
        switch try? JSONValue(parsing: text) {
        case .string(let string)?: return timezoneAccepts(string)
        case .object(let members)? where members["value"] != nil:
            return members["value"]?.stringValue.map(timezoneAccepts) ?? false
        case .object?, .array?: return false
        default: return timezoneAccepts(text)
        }
    }

    /// Payloads no target accepts (valid text for none of them).
    public static let garbage: [String] = [
        "", " ", "\t\n", "null", "[]", "{}", "[1, 2]", #"{"value": null}"#, #"{"value": {}}"#, #"{"value": [1]}"#, "{", "}", "\"",
        "0x1", "0x1p3", "0x10", "NaN", "nan", "Infinity", "-Infinity", "inf", "1e309", "-1e309", "1e-400x", "--1", "1..2",
        "#PRESS", "press", "Press", "PRESS PRESS", "RESTART", "Turbo", "maybe", "ON OFF", "éé", "\u{202E}PRESS", "\u{FEFF}PRESS",
        #"{"value": "0x1"}"#, #"{"value": "NaN"}"#, #"{"value": "1e309"}"#, #"{"value": 1e999}"#,
        String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
        String(repeating: #"{"value":"#, count: 20_000) + "1" + String(repeating: "}", count: 20_000),
        String(repeating: "{\"a\":", count: 600) + "1" + String(repeating: "}", count: 600),
        "{\"value\": \"" + String(repeating: "x", count: 200_000) + "\"}", String(repeating: "9", count: 100_000),
        String(repeating: "P", count: 100_000),
    ]

    /// A payload of the wrong JSON type for the target.
    public static func wrongType(_ target: Target, _ random: inout some RandomNumberGenerator) -> String {
        let choices: [String] =
            switch target.kind {
            case .boolean: [#"{"value": 2}"#, #"{"value": "maybe"}"#, #"{"value": [true]}"#, #"{"value": {}}"#, #"{"value": 0.5}"#, "maybe"]
            case .number: [#"{"value": true}"#, #"{"value": "abc"}"#, #"{"value": false}"#, "true", "ON", #""ON""#, #"{"value": [1]}"#]
            case .text: [#"{"value": true}"#, #"{"value": 12}"#, #"{"value": false}"#, #"{"value": 1.5}"#, #"{"value": ["UTC"]}"#]
            case .enumeration: [#"{"value": true}"#, #"{"value": 1}"#, #"{"value": ["Eco"]}"#, "eco", #"{"value": "ECO"}"#]
            case .button: ["true", "1", #"{"value": true}"#, #"{"value": 1}"#, #""press""#, #"{"value": ["PRESS"]}"#, "PRESSED"]
            }
        return choices.randomElement(using: &random) ?? "true"
    }

    /// A number outside the target's range (or not a whole number for `main_fuse`), for the
    /// numeric entities this knows (`fixed_price` 0…10, `main_fuse` 6…250 whole, `fuse` 10…63).
    public static func outOfRange(_ target: Target, _ random: inout some RandomNumberGenerator) -> String? {
        switch target.entity as String? {
        case "fixed_price": ["10.001", "-0.001", "11", "1e3", "-5"].randomElement(using: &random)
        case "main_fuse": ["5", "251", "16.5", "0", "-16", "1e10"].randomElement(using: &random)
        case "fuse": ["9", "64", "1000", "-1"].randomElement(using: &random)
        default: nil
        }
    }

    /// Bytes that are not a valid command for anyone: invalid UTF-8, or a control character
    /// (NUL, ESC, DEL) inside an otherwise valid payload.
    public static func hostileBytes(_ target: Target, _ random: inout some RandomNumberGenerator) -> [UInt8] {
        let valid = Array((target.valid.randomElement(using: &random) ?? "1").utf8)
        switch Int.random(in: 0..<6, using: &random) {
        case 0:
            let count = Int.random(in: 0..<64, using: &random)
            return (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } + [0xC0]
        case 1: return valid + [0]
        case 2: return [0] + valid
        case 3: return valid + [0x00] + Array("garbage".utf8)
        case 4: return valid + [0x1B] + Array("[2J".utf8)
        default: return valid + [0xFF, 0xFE]
        }
    }

    /// One fuzzed command.
    public struct Case: Sendable {
        public var topic: String
        public var payload: [UInt8]
        public var valid: Bool
        /// The transaction the payload carries, which the result must echo digit for digit.
        public var transaction: UInt64?
        /// The class of an ``invalidCase(_:targets:base:_:)``.
        public var invalidClass: InvalidClass?

        public init(topic: String, payload: [UInt8], valid: Bool, transaction: UInt64? = nil, invalidClass: InvalidClass? = nil) {
            self.topic = topic
            self.payload = payload
            self.valid = valid
            self.transaction = transaction
            self.invalidClass = invalidClass
        }

        /// The topic's device level (`<base>/<device>/…`).
        public var device: String {
            let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
            return levels.count > 1 ? String(levels[1]) : ""
        }
    }

    /// Valid commands (a fifth) mixed with garbage, hostile bytes, wrong types, out-of-range
    /// numbers and topics no device owns (`strangeTopics`), for a router test that checks each
    /// verdict (`valid`).
    public static func nextCase(targets: [Target], strangeTopics: [String], base: String = "api2mqtt", _ random: inout some RandomNumberGenerator) -> Case {
        guard let target = targets.randomElement(using: &random) else { return Case(topic: "", payload: [], valid: false) }
        let transaction = UInt64.random(in: 0...UInt64.max, using: &random)
        func json(_ value: String) -> [UInt8] {
            Array(
                (Bool.random(using: &random)
                    ? #"{"value": \#(value), "transaction": \#(transaction)}"#
                    : #"{"transaction":\#(transaction),"value":\#(value)}"#).utf8)
        }
        func deviceLevel(_ value: String) -> [UInt8] {
            Array(#"{"\#(target.entity)": \#(value), "transaction": \#(transaction)}"#.utf8)
        }
        func quoted(_ text: String) -> String { JSONValue.string(text).jsonString }
        /// The valid value as typed JSON: numbers and the booleans true/false bare, the rest quoted.
        func typed(_ value: String) -> String {
            target.kind == .number || (target.kind == .boolean && ["true", "false"].contains(value)) ? value : quoted(value)
        }
        switch Int.random(in: 0..<10, using: &random) {
        case 0, 1:
            let value = target.valid.randomElement(using: &random) ?? ""
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return Case(topic: target.topic, payload: Array(value.utf8), valid: true)
            case 1: return Case(topic: target.topic, payload: json(typed(value)), valid: true, transaction: transaction)
            default:
                return Case(
                    topic: "\(base)/\(target.device)/set", payload: deviceLevel(typed(value)), valid: true, transaction: transaction)
            }
        case 2, 3:
            let value = garbage.randomElement(using: &random) ?? ""
            return Case(topic: target.topic, payload: Array(value.utf8), valid: plainAccepted(target, value))
        case 4:
            return Case(topic: target.topic, payload: hostileBytes(target, &random), valid: false)
        case 5:
            return Case(topic: target.topic, payload: Array(wrongType(target, &random).utf8), valid: false)
        case 6:
            guard let number = outOfRange(target, &random) else {
                return Case(topic: target.topic, payload: Array(wrongType(target, &random).utf8), valid: false)
            }
            return Bool.random(using: &random)
                ? Case(topic: target.topic, payload: Array(number.utf8), valid: false)
                : Case(topic: target.topic, payload: json(number), valid: false, transaction: transaction)
        case 7:
            let value = garbage.randomElement(using: &random) ?? ""
            let accepted = target.kind == .text && timezoneAccepts(value)
            return Case(
                topic: "\(base)/\(target.device)/set", payload: deviceLevel(quoted(value)), valid: accepted,
                transaction: value.utf8.count < 1_000 ? transaction : nil)
        case 8:
            let topic = strangeTopics.randomElement(using: &random) ?? ""
            let value = target.valid.randomElement(using: &random) ?? ""
            return topic.hasSuffix("fuse/set")
                ? Case(topic: topic, payload: Array(value.utf8), valid: false)
                : Case(topic: topic, payload: json(quoted(value)), valid: false, transaction: transaction)
        default:
            let count = Int.random(in: 0..<300, using: &random)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0x20...0x7E, using: &random) }
            return Case(topic: target.topic, payload: Array("#".utf8) + bytes, valid: false)
        }
    }

    // MARK: Invalid commands by class

    /// The classes of invalid commands of issue #17's fault suite.
    public enum InvalidClass: String, CaseIterable, Sendable {
        /// Random bytes (always with a byte no command may hold).
        case randomBytes = "random bytes"
        /// A valid command with an invalid UTF-8 sequence in it.
        case invalidUTF8 = "invalid UTF-8"
        /// About 1 MB: a payload that would be valid but for its size, or a huge value.
        case hugePayload = "1 MB payload"
        /// JSON nested deeper than the bridge reads (33 levels up to 100,000).
        case deepNesting = "deep nesting"
        /// NaN, infinities and numbers beyond a double (1e309), plain, as JSON and as JSON strings.
        case nonFinite = "NaN/Infinity/1e309"
        /// Hexadecimal numbers (`0x10`, `0x1p3`), also where their value would be in range.
        case hexNumber = "hex number"
        /// A number with a NUL in it (`5\0garbage`, escaped `"5\u0000"`).
        case embeddedNUL = "embedded-NUL number"
        /// A text command given a boolean, number, null, list or object.
        case wrongTypeForText = "wrong type for text"
        /// Other commands given a value of the wrong type (switch, number, button).
        case wrongType = "wrong type"
        /// Numbers out of the command's range.
        case outOfRange = "out of range"
        /// Topics with no device id (`no such`, `$x`, 5,000 characters, upper case, non-ASCII,
        /// empty), an unknown device id and unknown entities.
        case oddTopic = "odd topic"
    }

    /// Where the one result of an invalid case goes (README "What a command may be").
    public enum Answer: Sendable, Equatable {
        /// On `<base>/<device>/result` (and the response topic, if any).
        case resultTopic(device: String)
        /// On the MQTT 5 response topic only (the topic's device level is no device id).
        case responseTopicOnly
    }

    /// Where the result of `fuzzCase` is published.
    public static func answer(of fuzzCase: Case) -> Answer {
        CommandTopic.isID(fuzzCase.device) ? .resultTopic(device: fuzzCase.device) : .responseTopicOnly
    }

    /// Number targets of `targets` (the classes about numbers apply to them).
    private static func numberTargets(_ targets: [Target]) -> [Target] {
        let numbers = targets.filter { $0.kind == .number }
        return numbers.isEmpty ? targets : numbers
    }

    /// An invalid command of `invalidClass` for one of `targets` (all of one known device), in
    /// the entity form (`<device>/<entity>/set`, plain or `{"value": …}`) or the device form
    /// (`<device>/set` with `{"<entity>": …}`, always exactly one entity). The payloads carry a
    /// numeric transaction where they are JSON the bridge can read.
    public static func invalidCase(
        _ invalidClass: InvalidClass, targets: [Target], base: String = "api2mqtt", _ random: inout some RandomNumberGenerator
    ) -> Case {
        var fuzzCase = makeInvalidCase(invalidClass, targets: targets, base: base, &random)
        // The result echoes a transaction only from a payload the bridge reads as a JSON object.
        if fuzzCase.transaction != nil {
            let readable =
                if case .success = CommandPayload.text(of: fuzzCase.payload), case .object? = try? JSONValue.parse(fuzzCase.payload) {
                    true
                } else {
                    false
                }
            if !readable { fuzzCase.transaction = nil }
        }
        return fuzzCase
    }

    private static func makeInvalidCase(
        _ invalidClass: InvalidClass, targets: [Target], base: String, _ random: inout some RandomNumberGenerator
    ) -> Case {
        let anyTarget = targets.randomElement(using: &random) ?? Target(topic: "\(base)/han/x/set", entity: "x", kind: .number, valid: ["1"])
        let numberTarget = numberTargets(targets).randomElement(using: &random) ?? anyTarget
        let transaction = UInt64.random(in: 0...UInt64.max, using: &random)
        let deviceForm = Bool.random(using: &random)

        /// `value` (JSON text) in the entity form as `{"value": …}` or in the device form.
        func json(_ target: Target, _ value: String) -> Case {
            deviceForm
                ? Case(
                    topic: "\(base)/\(target.device)/set",
                    payload: Array(#"{"\#(target.entity)": \#(value), "transaction": \#(transaction)}"#.utf8), valid: false,
                    transaction: transaction, invalidClass: invalidClass)
                : Case(
                    topic: target.topic, payload: Array(#"{"value": \#(value), "transaction": \#(transaction)}"#.utf8), valid: false,
                    transaction: transaction, invalidClass: invalidClass)
        }
        /// Bytes as a plain payload (entity form) or spliced into the device form's JSON as the value.
        func bytes(_ target: Target, _ payload: [UInt8], asJSONValue: Bool = false) -> Case {
            if deviceForm {
                let value = asJSONValue ? payload : Array("\"".utf8) + payload + Array("\"".utf8)
                return Case(
                    topic: "\(base)/\(target.device)/set", payload: Array(#"{"\#(target.entity)": "#.utf8) + value + Array("}".utf8),
                    valid: false, invalidClass: invalidClass)
            }
            return Case(topic: target.topic, payload: payload, valid: false, invalidClass: invalidClass)
        }
        func plain(_ target: Target, _ text: String) -> Case {
            Case(topic: target.topic, payload: Array(text.utf8), valid: false, invalidClass: invalidClass)
        }

        switch invalidClass {
        case .randomBytes:
            let count = Int.random(in: 1...512, using: &random)
            var payload = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            // At least one byte no command may hold, wherever the dice put it.
            let forbidden: [UInt8] = [0x00, 0x01, 0x07, 0x1B, 0x7F, 0xC0, 0xFF]
            payload.insert(forbidden.randomElement(using: &random) ?? 0, at: Int.random(in: 0...payload.count, using: &random))
            let topic = deviceForm ? "\(base)/\(anyTarget.device)/set" : anyTarget.topic
            return Case(topic: topic, payload: payload, valid: false, invalidClass: invalidClass)

        case .invalidUTF8:
            let sequences: [[UInt8]] = [[0xC0], [0xC0, 0xAF], [0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFF, 0xFE]]
            let bad = sequences.randomElement(using: &random) ?? [0xC0]
            let valid = Array((anyTarget.valid.randomElement(using: &random) ?? "1").utf8)
            let position = Int.random(in: 0...valid.count, using: &random)
            var payload = valid
            payload.insert(contentsOf: bad, at: position)
            return bytes(anyTarget, payload)

        case .hugePayload:
            let size = 1_048_576 + Int.random(in: 0..<4096, using: &random)
            let valid = numberTarget.valid.randomElement(using: &random) ?? "1"
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                // Valid but for its size: a valid value padded with spaces.
                let pad = String(repeating: " ", count: size / 2)
                return plain(numberTarget, pad + valid + pad)
            case 1: return plain(numberTarget, String(repeating: "9", count: size))
            case 2: return json(anyTarget, JSONValue.string(String(repeating: "x", count: size)).jsonString)
            default:
                return json(numberTarget, valid + String(repeating: " ", count: size))
            }

        case .deepNesting:
            let depth = [33, 34, 64, 1_000, 100_000].randomElement(using: &random) ?? 33
            let valid = numberTarget.valid.randomElement(using: &random) ?? "1"
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return json(numberTarget, String(repeating: "[", count: depth) + valid + String(repeating: "]", count: depth))
            case 1:
                return plain(
                    numberTarget, String(repeating: #"{"value":"#, count: depth) + valid + String(repeating: "}", count: depth))
            default:
                return json(numberTarget, String(repeating: #"{"a":"#, count: depth) + valid + String(repeating: "}", count: depth))
            }

        case .nonFinite:
            let word = ["NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "-inf", "1e309", "-1e309", "1E400", "2e308"]
                .randomElement(using: &random) ?? "NaN"
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return plain(numberTarget, word)
            case 1: return json(numberTarget, word)
            default: return json(numberTarget, JSONValue.string(word).jsonString)
            }

        case .hexNumber:
            // 0x10 is 16 (a valid main fuse), 0x1 and 0x0.8p1 valid prices: all must be refused.
            let word = ["0x10", "0X10", "0x1", "0x1p3", "0x0.8p1", "-0x5", "0xA", "+0x10"].randomElement(using: &random) ?? "0x10"
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return plain(numberTarget, word)
            case 1: return json(numberTarget, word)
            default: return json(numberTarget, JSONValue.string(word).jsonString)
            }

        case .embeddedNUL:
            let valid = numberTarget.valid.randomElement(using: &random) ?? "1"
            switch Int.random(in: 0..<4, using: &random) {
            case 0: return bytes(numberTarget, Array(valid.utf8) + [0] + Array("garbage".utf8))
            case 1: return bytes(numberTarget, Array(valid.utf8) + [0])
            case 2: return bytes(numberTarget, [0] + Array(valid.utf8), asJSONValue: true)
            default: return json(numberTarget, "\"\(valid)\\u0000\"")
            }

        case .wrongTypeForText:
            let text = targets.first { $0.kind == .text } ?? anyTarget
            let value = ["true", "false", "12", "1.5", "-0", "null", #"["UTC"]"#, #"{"zone": "UTC"}"#, "[]", "{}"]
                .randomElement(using: &random) ?? "true"
            return json(text, value)

        case .wrongType:
            let others = targets.filter { $0.kind != .text }
            let target = others.randomElement(using: &random) ?? anyTarget
            let payload = wrongType(target, &random)
            // A `{"value": …}` payload goes into the device form as its value.
            if payload.hasPrefix(#"{"value": "#), payload.hasSuffix("}") {
                return json(target, String(payload.dropFirst(10).dropLast()))
            }
            return plain(target, payload)

        case .outOfRange:
            let value = outOfRange(numberTarget, &random) ?? "-1"
            return Bool.random(using: &random) ? plain(numberTarget, value) : json(numberTarget, value)

        case .oddTopic:
            let device = anyTarget.device
            let valid = anyTarget.valid.randomElement(using: &random) ?? "1"
            let topics = [
                "\(base)/no such/set", "\(base)/$x/set", "\(base)/\(String(repeating: "z", count: 5_000))/set",
                "\(base)/\(device.uppercased())/set", "\(base)/hän/set", "\(base)/\(device) /set",
                "\(base)/no such/\(anyTarget.entity)/set", "\(base)/\(device.uppercased())/\(anyTarget.entity)/set",
                "\(base)/nosuch/set", "\(base)/nosuch/\(anyTarget.entity)/set", "\(base)/\(device)/nope/set",
                "\(base)/\(device)/\(anyTarget.entity.uppercased())/set",
                "\(base)/\(device)/\(anyTarget.entity) /set", "\(base)/\(device)/\(String(repeating: "e", count: 5_000))/set",
            ]
            let topic = topics.randomElement(using: &random) ?? "\(base)/no such/set"
            let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
            if levels.count == 3 {
                // `<base>/<device>/set`: a device-form payload naming a real entity.
                return Case(
                    topic: topic, payload: Array(#"{"\#(anyTarget.entity)": \#(JSONValue.string(valid).jsonString), "transaction": \#(transaction)}"#.utf8),
                    valid: false, transaction: transaction, invalidClass: invalidClass)
            }
            return Bool.random(using: &random)
                ? Case(topic: topic, payload: Array(valid.utf8), valid: false, invalidClass: invalidClass)
                : Case(
                    topic: topic, payload: Array(#"{"value": \#(JSONValue.string(valid).jsonString), "transaction": \#(transaction)}"#.utf8),
                    valid: false, transaction: transaction, invalidClass: invalidClass)
        }
    }
}
