import BridgeCore
import Simulators
import Testing

/// ``FaultPlan``, ``StreamHub`` and the JSON helpers, without a server.
@Suite("FaultPlan")
struct FaultPlanTests {
    @Test("faults apply to their scope, are not duplicated, and switch off")
    func scopes() {
        let plan = FaultPlan()
        plan.activate(.httpError(500), on: .paths(["/a"]))
        plan.activate(.slow(.milliseconds(5)))
        #expect(plan.faults(for: "/a") == [.httpError(500), .slow(.milliseconds(5))])
        #expect(plan.faults(for: "/b") == [.slow(.milliseconds(5))])
        #expect(plan.isActive(.httpError(500), for: "/a"))
        #expect(!plan.isActive(.httpError(500), for: "/b"))
        plan.activate(.slow(.milliseconds(5)))
        #expect(plan.rules.count == 2)
        plan.deactivate(.slow(.milliseconds(5)))
        #expect(plan.faults(for: "/b").isEmpty)
        plan.clear()
        #expect(plan.rules.isEmpty)
    }

    @Test("quirks are on for good or for a number of uses")
    func quirkBudgets() {
        let plan = FaultPlan(quirks: [.busLoss])
        #expect(plan.consume(.busLoss))
        #expect(plan.consume(.busLoss))
        #expect(plan.isEnabled(.busLoss))
        plan.enable(.energyGlitch, times: 2)
        #expect(plan.consume(.energyGlitch))
        #expect(plan.isEnabled(.energyGlitch))
        #expect(plan.consume(.energyGlitch))
        #expect(!plan.consume(.energyGlitch))
        #expect(!plan.isEnabled(.energyGlitch))
        plan.enable(.repeatTelegram, times: 0)
        #expect(!plan.isEnabled(.repeatTelegram))
        plan.disable(.busLoss)
        #expect(plan.enabledQuirks.isEmpty)
        plan.enable(.sseKeepAlive)
        plan.clear()
        #expect(plan.enabledQuirks.isEmpty)
    }

    @Test("dropStreams reaches every hub, on its scope; a shut-down hub finishes new streams at once")
    func dropStreams() async {
        let plan = FaultPlan()
        let hub = StreamHub(faults: plan)
        let sse = hub.subscribe(path: "/sse")
        let ws = hub.subscribe(path: "/ws")
        #expect(hub.subscriberCount == 2)
        plan.dropStreams(on: .paths(["/sse"]))
        #expect(hub.subscriberCount == 1)
        var sseMessages = sse.messages.makeAsyncIterator()
        #expect(await sseMessages.next() == nil)
        hub.broadcast(StreamMessage(event: "E", data: "{}"))
        var wsMessages = ws.messages.makeAsyncIterator()
        #expect(await wsMessages.next() == StreamMessage(event: "E", data: "{}"))
        plan.activate(.dropStreams)
        #expect(hub.subscriberCount == 0)
        #expect(await wsMessages.next() == nil)

        hub.shutdown()
        var late = hub.subscribe(path: "/sse").messages.makeAsyncIterator()
        #expect(await late.next() == nil)
        hub.reopen()
        let reopened = hub.subscribe(path: "/sse")
        #expect(hub.subscriberCount == 1)
        reopened.close()
        #expect(hub.subscriberCount == 0)
    }

    @Test("SSE framing and the malformed-JSON helper")
    func helpers() {
        #expect(StreamMessage(event: "A", data: #"{"x":1}"#).serverSentEvent == "event: A\ndata: {\"x\":1}\n\n")
        #expect(StreamMessage(event: "A", data: "1\n2").serverSentEvent == "event: A\ndata: 1\ndata: 2\n\n")
        let broken = JSONResponse.malformed(#"{"type":"X","v":1}"#)
        #expect(broken == #"{"type":""#)
        #expect(JSON.decode(broken) == nil)
        #expect(JSONResponse.malformed("plain") == "plain")
    }
}
