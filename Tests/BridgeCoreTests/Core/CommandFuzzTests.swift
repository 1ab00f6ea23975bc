import BridgeCore
import Foundation
import TestSupport
import Testing

/// Feeds thousands of random and hostile payloads to the router (seeded, so a failure replays)
/// and checks the contract on every one: exactly one result, an error for every invalid command,
/// and no call reaching a fake device for any invalid one.
@Suite("Command router fuzz")
struct CommandFuzzTests {
    typealias Generator = FuzzRandom
    typealias Target = CommandFuzz.Target

    /// The HAN mapping's commands (TestSupport's `CommandFuzz.hanTargets`) and a fake source `core`
    /// with a number, an enumeration and buttons (one on a child device).
    static let targets: [Target] =
        CommandFuzz.hanTargets(base: CoreTestSupport.base, device: "han") + [
            Target(topic: "api2mqtt/core/fuse/set", entity: "fuse", kind: .number, valid: ["10", "20", "63", "32.5"]),
            Target(topic: "api2mqtt/core/mode/set", entity: "mode", kind: .enumeration, valid: ["Eco", "Fast"]),
            Target(topic: "api2mqtt/core/restart/set", entity: "restart", kind: .button, valid: ["PRESS"]),
            Target(topic: "api2mqtt/core_a/unlock/set", entity: "unlock", kind: .button, valid: ["PRESS"]),
        ]

    /// Device levels no device id can have, and ids no source owns.
    static let strangeTopics = [
        "api2mqtt/no such/fuse/set", "api2mqtt/$x/set", "api2mqtt/\(String(repeating: "z", count: 5_000))/set", "api2mqtt/nosuch/fuse/set",
        "api2mqtt/core/nope/set", "api2mqtt/core_zz/unlock/set", "api2mqtt/CORE/fuse/set", "api2mqtt/core/fuse fuse/set",
    ]

    static func nextCase(_ random: inout Generator) -> CommandFuzz.Case {
        CommandFuzz.nextCase(targets: targets, strangeTopics: strangeTopics, base: CoreTestSupport.base, &random)
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

/// The invalid classes the fault suite (`Benchmarks/run-fault-suite fuzz`) sends through a real
/// broker, here against the router alone: one error result each, where the README says it goes,
/// and no call.
@Suite("Command router fuzz by class")
struct CommandFuzzClassTests {
    @Test("every invalid class of the fault suite: one error result each, on the documented topics, and no call", arguments: CommandFuzz.InvalidClass.allCases)
    func invalidClass(_ invalidClass: CommandFuzz.InvalidClass) async throws {
        let harness = try await RouterHarness(hanMapping: CozifyHANMappingTests.mapping())
        let targets = CommandFuzz.hanTargets(base: CoreTestSupport.base, device: "han")
        var random = FuzzRandom(state: 0xFA17_0000 &+ UInt64(CommandFuzz.InvalidClass.allCases.firstIndex(of: invalidClass) ?? 0))
        for index in 0..<150 {
            let command = CommandFuzz.invalidCase(invalidClass, targets: targets, base: CoreTestSupport.base, &random)
            let correlation = Array(String(index).utf8)
            let callsBefore = await harness.totalCalls()
            let publishedBefore = harness.broker.published.count
            await harness.router.handle(
                InboundMessage(topic: command.topic, payload: command.payload, responseTopic: "fuzz/reply", correlationData: correlation))
            await harness.settle()
            let published = harness.broker.published.dropFirst(publishedBefore)
            let shown = "\(invalidClass) #\(index) \(command.topic.prefix(60)) \(String(decoding: command.payload.prefix(60), as: UTF8.self).debugDescription)"
            let replies = published.filter { $0.topic == "fuzz/reply" }
            #expect(replies.count == 1, "one result on the response topic: \(shown)")
            let results = published.filter { $0.topic != "fuzz/reply" }
            switch CommandFuzz.answer(of: command) {
            case .resultTopic(let device):
                #expect(results.map(\.topic) == ["api2mqtt/\(device)/result"], "one result on the device's result topic: \(shown)")
            case .responseTopicOnly:
                #expect(results.isEmpty, "no result topic for a device level that is no id: \(shown)")
            }
            let result = replies.first.flatMap(CoreTestSupport.parse)
            #expect(result?["status"] == "error", "\(shown) → \(String(describing: result))")
            #expect(await harness.totalCalls() == callsBefore, "no call: \(shown)")
            if let transaction = command.transaction, let reply = replies.first {
                let text = String(decoding: reply.payload, as: UTF8.self)
                #expect(text.contains(#""transaction":\#(transaction)}"#), "the transaction comes back as sent: \(shown) → \(text.prefix(300))")
            }
        }
    }
}
