import BridgeCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// Command input that must be refused before any call, found by a black-box fuzz (issue #12):
/// buttons acting on any payload, NUL-truncated and hexadecimal numbers, JSON booleans taken as
/// text, and transactions above 2^53 coming back rounded.
@Suite("Command input")
struct CommandInputTests {
    /// A router whose `han` source uses the real Cozify HAN mapping (spot_price: boolean,
    /// fixed_price: number 0–10, main_fuse: integer 6–250, timezone: text with a pattern,
    /// scan_wifi_networks: button).
    static func cozify() async throws -> RouterHarness {
        try await RouterHarness(hanMapping: CozifyHANMappingTests.mapping())
    }

    /// Sends one command and expects exactly one error result with `code` and no call at all.
    static func expectRefused(
        _ harness: RouterHarness, _ topic: String, _ payload: [UInt8], code: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let shown = String(decoding: payload.prefix(60), as: UTF8.self).debugDescription
        let before = harness.allResults.count
        let callsBefore = await harness.totalCalls()
        await harness.send(topic, bytes: payload)
        await harness.settle()
        let results = Array(harness.allResults.dropFirst(before))
        #expect(results.count == 1, "exactly one result for \(topic) \(shown)", sourceLocation: sourceLocation)
        let result = results.first.flatMap(CoreTestSupport.parse)
        #expect(result?["status"] == "error", "\(topic) \(shown) is refused", sourceLocation: sourceLocation)
        if let code {
            #expect(result?["error_code"] == .string(code), "\(topic) \(shown)", sourceLocation: sourceLocation)
        }
        #expect(await harness.totalCalls() == callsBefore, "no call for \(topic) \(shown)", sourceLocation: sourceLocation)
    }

    @Test("a mapping button refuses anything but Home Assistant's PRESS, in every command form")
    func mappingButtonsOnlyPress() async throws {
        let harness = try await RouterHarness()
        let garbage: [[UInt8]] = [
            Array("press".utf8), [0xFF], Array(#"{"a": 1}"#.utf8), Array("RESTART".utf8), Array("true".utf8),
            Array("1".utf8), Array("null".utf8), Array(#"{"value": "press"}"#.utf8), Array("PRESS\u{0}x".utf8),
        ]
        for payload in garbage {
            await Self.expectRefused(harness, "api2mqtt/han/restart/set", payload)
            await Self.expectRefused(harness, "api2mqtt/han_a/unlock/set", payload)
        }
        await Self.expectRefused(harness, "api2mqtt/han/set", Array(#"{"restart": "press"}"#.utf8), code: "invalid_value")
        await Self.expectRefused(harness, "api2mqtt/han/set", Array(#"{"restart": true}"#.utf8), code: "invalid_value")
        #expect(await harness.han.actions.isEmpty)

        // Accepted: the plain payload, a JSON string, {"value": "PRESS"} and {"<button>": "PRESS"}.
        for (topic, payload) in [
            ("api2mqtt/han/restart/set", "PRESS"), ("api2mqtt/han/restart/set", #""PRESS""#),
            ("api2mqtt/han/restart/set", #"{"value": "PRESS"}"#), ("api2mqtt/han/set", #"{"restart": "PRESS"}"#),
        ] {
            await harness.send(topic, payload)
        }
        await harness.settle()
        #expect(harness.results("han").suffix(4).map { $0["status"] } == ["ok", "ok", "ok", "ok"])
        #expect(await harness.han.actions.count == 4)
    }

    @Test("an embedded NUL does not cut a number short: 5\\0garbage is refused, nothing is POSTed")
    func embeddedNUL() async throws {
        let harness = try await Self.cozify()
        await Self.expectRefused(harness, "api2mqtt/han/fixed_price/set", Array("5\u{0}garbage".utf8))
        await Self.expectRefused(harness, "api2mqtt/han/main_fuse/set", Array("16\u{0}".utf8))
        await Self.expectRefused(harness, "api2mqtt/han/timezone/set", Array("UTC\u{0}rm".utf8))
        await Self.expectRefused(harness, "api2mqtt/han/set", Array("{\"fixed_price\": 5}\u{0}".utf8))
        #expect(await harness.han.calls.isEmpty)
    }

    @Test("invalid UTF-8 is refused as a payload, not repaired into text")
    func invalidUTF8() async throws {
        let harness = try await Self.cozify()
        await Self.expectRefused(harness, "api2mqtt/han/timezone/set", [0x55, 0x54, 0xC3, 0x28], code: "invalid_payload")
        await Self.expectRefused(harness, "api2mqtt/han/set", Array(#"{"timezone": "UTC"}"#.utf8) + [0xFF], code: "invalid_payload")
    }

    @Test(
        "numbers are decimal only: hexadecimal, NaN, infinities and overflowing exponents are refused",
        arguments: [
            ("fixed_price", "0x1"), ("fixed_price", "0x1p3"), ("main_fuse", "0x10"), ("fixed_price", #""0x1""#),
            ("fixed_price", "nan"), ("fixed_price", "NaN"), ("fixed_price", "inf"), ("fixed_price", "Infinity"),
            ("fixed_price", "-infinity"), ("fixed_price", "1e309"), ("main_fuse", "1e309"), ("fixed_price", "-1e309"),
            ("fixed_price", #"{"value": "0x1"}"#), ("main_fuse", "16 A"), ("fixed_price", "1_0"), ("fixed_price", "١"),
            ("fixed_price", "+"), ("fixed_price", "."), ("fixed_price", "1e"), ("main_fuse", "0b1000"),
        ])
    func decimalNumbersOnly(entity: String, payload: String) async throws {
        let harness = try await Self.cozify()
        await Self.expectRefused(harness, "api2mqtt/han/\(entity)/set", Array(payload.utf8), code: "invalid_value")
    }

    @Test("decimal numbers, as JSON or as numeric text, still pass")
    func decimalNumbersPass() async throws {
        let harness = try await Self.cozify()
        await harness.send("api2mqtt/han/fixed_price/set", "0.125")
        await harness.send("api2mqtt/han/fixed_price/set", #""2.5""#)
        await harness.send("api2mqtt/han/main_fuse/set", "1.6e1")
        await harness.send("api2mqtt/han/main_fuse/set", #"{"value": "25"}"#)
        await harness.settle()
        #expect(
            await harness.han.calls.map(\.body) == [["p": 0.125], ["p": 2.5], ["m": ["f": 16]], ["m": ["f": 25]]])
    }

    @Test("a JSON boolean or number is not text: {\"timezone\": true} is refused")
    func typedJSONIsNotText() async throws {
        let harness = try await Self.cozify()
        await Self.expectRefused(harness, "api2mqtt/han/set", Array(#"{"timezone": true}"#.utf8), code: "invalid_value")
        await Self.expectRefused(harness, "api2mqtt/han/timezone/set", Array(#"{"value": true}"#.utf8), code: "invalid_value")
        await Self.expectRefused(harness, "api2mqtt/han/set", Array(#"{"timezone": 5}"#.utf8), code: "invalid_value")
        await Self.expectRefused(harness, "api2mqtt/han/timezone/set", Array(#"{"value": ["UTC"]}"#.utf8), code: "invalid_value")
        await harness.send("api2mqtt/han/set", #"{"timezone": "Europe/Helsinki"}"#)
        await harness.send("api2mqtt/han/timezone/set", "UTC")
        await harness.settle()
        #expect(await harness.han.calls.map(\.body) == [["t": "Europe/Helsinki"], ["t": "UTC"]])
    }

    @Test("a plain payload to a text command is its text, digits and all")
    func plainTextKeepsItsText() async throws {
        let harness = try await RouterHarness(hanMapping: Self.textMapping())
        await harness.send("api2mqtt/han/label/set", "1.50")
        await harness.send("api2mqtt/han/label/set", "007")
        await harness.send("api2mqtt/han/label/set", #""quoted""#)
        await harness.settle()
        #expect(await harness.han.calls.map(\.body) == [["l": "1.50"], ["l": "007"], ["l": "quoted"]])
    }

    static func textMapping() throws -> MappingFile {
        try MappingLoader.load(
            yaml: """
                source: cozify_han
                commands:
                  - id: label
                    component: text
                    call: { method: POST, path: /label, body: { l: $value } }
                """, file: "text-test.yaml")
    }

    @Test(
        "an integer transaction is echoed with all its digits, a string stays a string",
        arguments: [
            ("api2mqtt/han/fixed_price/set", #"{"value": 0.5, "transaction": 9007199254740993}"#, "9007199254740993"),
            ("api2mqtt/han/set", #"{"fixed_price": 0.5, "transaction": 18446744073709551615}"#, "18446744073709551615"),
            ("api2mqtt/han/set", #"{"transaction": -9223372036854775807, "fixed_price": 50}"#, "-9223372036854775807"),
            ("api2mqtt/han/set", #"{"transaction": 12345678901234567890123, "nope": 1}"#, "12345678901234567890123"),
            ("api2mqtt/nosuch/set", #"{"transaction":9007199254740995,"x":1}"#, "9007199254740995"),
            ("api2mqtt/han/set", #"{"transaction": 9007199254740993}"#, "9007199254740993"),
            ("api2mqtt/han/set", #"{"fixed_price": 0.5, "transaction": "9007199254740993"}"#, #""9007199254740993""#),
            ("api2mqtt/han/set", #"{"fixed_price": 0.5, "transaction": 1.5}"#, "1.5"),
            ("api2mqtt/han/set", #"{"fixed_price": 0.5, "trans\u0061ction": 9007199254740993}"#, "9007199254740993"),
            ("api2mqtt/han/fixed_price/set", #"{"x": {"transaction": 1}, "value": 0.5, "transaction" : 9007199254740997 }"#, "9007199254740997"),
        ])
    func transactionEchoedExactly(topic: String, payload: String, echoed: String) async throws {
        let harness = try await Self.cozify()
        await harness.send(topic, payload)
        await harness.settle()
        let texts = harness.allResults.map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(texts.count == 1)
        #expect(texts.first?.contains(#""transaction":\#(echoed)}"#) == true, "\(texts)")
        #expect(texts.allSatisfy { (try? JSONValue(parsing: $0)) != nil }, "the result is still JSON")
    }
}

/// The bridge's own buttons (`<base>/bridge/restart/set`, `<base>/bridge/republish_discovery/set`).
@Suite("Bridge device buttons")
struct BridgeDeviceButtonTests {
    final class Restarts: Sendable {
        let count = Mutex(0)
    }

    @Test("the restart button restarts the sources only for PRESS; garbage gets an error result and no restart")
    func restartOnlyOnPress() async throws {
        let broker = InMemoryBroker()
        let service = try CoreTestSupport.bridge(on: broker, settings: "homeassistant:\n  enabled: false\n")
        let restarts = Restarts()
        service.attach(
            Bridge.SourceControl(
                summaries: { [] }, refresh: { _ throws(BridgeRequestError) in },
                restart: { _ throws(BridgeRequestError) in restarts.count.withLock { $0 += 1 } }, republishState: {}))
        let group = ServiceGroup(configuration: .init(services: [service], logger: CoreTestSupport.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await CoreTestSupport.spin(upTo: .seconds(60)) { broker.subscriptions.contains("api2mqtt/+/+/set") })
            let results = { broker.published(on: "api2mqtt/bridge/result").compactMap(CoreTestSupport.parse) }
            let garbage: [[UInt8]] = [
                Array("press".utf8), [0xFF], Array(#"{"a": 1}"#.utf8), Array("RESTART".utf8), Array("".utf8), Array("1".utf8),
            ]
            for (index, payload) in garbage.enumerated() {
                await service.handle(InboundMessage(topic: "api2mqtt/bridge/restart/set", payload: payload))
                await service.handle(InboundMessage(topic: "api2mqtt/bridge/republish_discovery/set", payload: payload))
                #expect(await CoreTestSupport.spin(upTo: .seconds(60)) { results().count == 2 * (index + 1) })
            }
            #expect(results().allSatisfy { $0["status"] == "error" }, "\(results())")
            #expect(restarts.count.withLock { $0 } == 0, "no garbage restarted the sources")

            await service.handle(InboundMessage(topic: "api2mqtt/bridge/restart/set", string: "PRESS"))
            await service.handle(InboundMessage(topic: "api2mqtt/bridge/set", string: #"{"restart": "PRESS"}"#))
            #expect(await CoreTestSupport.spin(upTo: .seconds(60)) { results().count == 2 * garbage.count + 2 })
            #expect(results().suffix(2).map { $0["status"] } == ["ok", "ok"])
            #expect(restarts.count.withLock { $0 } == 2)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
