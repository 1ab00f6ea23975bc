import BridgeCore
import Foundation
import TestSupport
import Testing

/// Feeds thousands of random and hostile payloads to the router (seeded, so a failure replays)
/// and checks the contract on every one: exactly one result, an error for every invalid command,
/// and no call reaching a fake device for any invalid one.
@Suite("Command router fuzz")
struct CommandFuzzTests {
    typealias Generator = MappingEngineChangingListTests.SeededGenerator

    /// What a fuzz target accepts: a few known-valid payloads and the kinds of garbage that apply.
    struct Target {
        enum Kind { case boolean, number, text, enumeration, button }
        var topic: String
        /// The entity id, for the device-level form.
        var entity: String
        var kind: Kind
        var valid: [String]

        var device: String { String(topic.split(separator: "/")[1]) }
    }

    static let targets: [Target] = [
        Target(topic: "api2mqtt/han/spot_price/set", entity: "spot_price", kind: .boolean, valid: ["ON", "OFF", "true", "false", "on", "0", "1"]),
        Target(topic: "api2mqtt/han/fixed_price/set", entity: "fixed_price", kind: .number, valid: ["0", "0.125", "10", "9.999", "1e0", "2.5E-1"]),
        Target(topic: "api2mqtt/han/main_fuse/set", entity: "main_fuse", kind: .number, valid: ["6", "16", "250", "25.0", "1.6e1"]),
        Target(
            topic: "api2mqtt/han/timezone/set", entity: "timezone", kind: .text,
            valid: ["UTC", "Europe/Helsinki", "America/Argentina/Buenos_Aires", "Etc/GMT+2"]),
        Target(topic: "api2mqtt/han/scan_wifi_networks/set", entity: "scan_wifi_networks", kind: .button, valid: ["PRESS"]),
        Target(topic: "api2mqtt/core/fuse/set", entity: "fuse", kind: .number, valid: ["10", "20", "63", "32.5"]),
        Target(topic: "api2mqtt/core/mode/set", entity: "mode", kind: .enumeration, valid: ["Eco", "Fast"]),
        Target(topic: "api2mqtt/core/restart/set", entity: "restart", kind: .button, valid: ["PRESS"]),
        Target(topic: "api2mqtt/core_a/unlock/set", entity: "unlock", kind: .button, valid: ["PRESS"]),
    ]

    /// Whether the timezone command (`max_length: 64` and a pattern) takes `text`: some garbage
    /// words (`maybe`, `null`, `Turbo`) are valid zone-shaped text.
    static func timezoneAccepts(_ text: String) -> Bool {
        text.count <= 64 && text.wholeMatch(of: /[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*/) != nil
    }

    /// Whether a plain payload of garbage is valid for the target after all (only zone-shaped text is).
    static func plainAccepted(_ target: Target, _ payload: String) -> Bool {
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

    /// Device levels no device id can have, and ids no source owns.
    static let strangeTopics = [
        "api2mqtt/no such/fuse/set", "api2mqtt/$x/set", "api2mqtt/\(String(repeating: "z", count: 5_000))/set", "api2mqtt/nosuch/fuse/set",
        "api2mqtt/core/nope/set", "api2mqtt/core_zz/unlock/set", "api2mqtt/CORE/fuse/set", "api2mqtt/core/fuse fuse/set",
    ]

    /// Payloads no target accepts (valid text for none of them).
    static let garbage: [String] = [
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
    static func wrongType(_ target: Target, _ random: inout Generator) -> String {
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

    /// A number outside every numeric target's range, or not a whole number for main_fuse.
    static func outOfRange(_ target: Target, _ random: inout Generator) -> String? {
        switch target.entity as String? {
        case "fixed_price": ["10.001", "-0.001", "11", "1e3", "-5"].randomElement(using: &random)
        case "main_fuse": ["5", "251", "16.5", "0", "-16", "1e10"].randomElement(using: &random)
        case "fuse": ["9", "64", "1000", "-1"].randomElement(using: &random)
        default: nil
        }
    }

    /// Bytes that are not a valid command for anyone: invalid UTF-8, or a control character
    /// (NUL, ESC, DEL) inside an otherwise valid payload.
    static func hostileBytes(_ target: Target, _ random: inout Generator) -> [UInt8] {
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

    struct Case {
        var topic: String
        var payload: [UInt8]
        var valid: Bool
        /// The transaction the payload carries, which the result must echo digit for digit.
        var transaction: UInt64?
    }

    static func nextCase(_ random: inout Generator) -> Case {
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
                    topic: "api2mqtt/\(target.device)/set", payload: deviceLevel(typed(value)), valid: true, transaction: transaction)
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
                topic: "api2mqtt/\(target.device)/set", payload: deviceLevel(quoted(value)), valid: accepted,
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

    @Test("thousands of random and hostile commands: exactly one result each, an error and no call for every invalid one")
    func fuzz() async throws {
        let harness = try await RouterHarness(hanMapping: CozifyHANMappingTests.mapping())
        let core = FakeCommandExecutor(name: "core")
        let coreBridge = try BridgeHarness(source: CoreTestSupport.source(id: "core"), broker: harness.broker)
        await coreBridge.ingest("points", #"{"connectors": [{"id": "A"}, {"id": "B"}]}"#)
        await harness.router.register(CommandRouter.Route(bridge: coreBridge.bridge, executor: core))
        harness.broker.clearPublished()

        var random = Generator(state: 0x5EED_0012)
        var invalidCount = 0
        var validCount = 0
        for index in 0..<3_000 {
            let command = Self.nextCase(&random)
            let correlation = Array(String(index).utf8)
            let callsBefore = await harness.totalCalls() + (await core.callCount)
            let publishedBefore = harness.broker.published.count
            await harness.router.handle(
                InboundMessage(topic: command.topic, payload: command.payload, responseTopic: "fuzz/reply", correlationData: correlation))
            await harness.settle()
            let published = harness.broker.published.dropFirst(publishedBefore)
            let replies = published.filter { $0.topic == "fuzz/reply" }
            let shown = "#\(index) \(command.topic.prefix(60)) \(String(decoding: command.payload.prefix(60), as: UTF8.self).debugDescription)"
            #expect(replies.count == 1, "exactly one result: \(shown)")
            #expect(replies.allSatisfy { $0.correlationData == correlation }, "\(shown)")
            let results = published.filter { $0.topic != "fuzz/reply" }
            #expect(results.count <= replies.count, "at most the same result on the device's result topic: \(shown)")
            #expect(results.allSatisfy { $0.topic.hasSuffix("/result") && TopicSafe.isSafe(String($0.topic.split(separator: "/")[1])) }, "\(shown)")
            let result = replies.first.flatMap(CoreTestSupport.parse)
            #expect(result != nil, "the result is JSON: \(shown)")
            let calls = await harness.totalCalls() + (await core.callCount) - callsBefore
            if command.valid {
                validCount += 1
                #expect(result?["status"] == "ok", "valid: \(shown) → \(String(describing: result))")
                #expect(calls == 1, "valid: one call: \(shown)")
            } else {
                invalidCount += 1
                #expect(result?["status"] == "error", "invalid: \(shown) → \(String(describing: result))")
                #expect(calls == 0, "invalid: no call: \(shown)")
            }
            if let transaction = command.transaction, let reply = replies.first {
                let text = String(decoding: reply.payload, as: UTF8.self)
                #expect(text.contains(#""transaction":\#(transaction)}"#), "the transaction comes back as sent: \(shown) → \(text.prefix(300))")
            }
        }
        #expect(invalidCount > 1_800)
        #expect(validCount > 400)
    }
}
