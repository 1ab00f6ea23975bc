import Testing

@testable import BridgeCore

@Suite("MappedCall")
struct MappedCallTests {
    @Test("A body field that is exactly $value becomes the typed value")
    func typedValue() {
        let call = MappedCall(method: "POST", path: "/configuration", body: ["s": "$value", "note": "set to $value"])
        let rendered = call.rendered(value: .bool(true))
        #expect(rendered == RenderedCall(method: "POST", path: "/configuration", body: ["s": true, "note": "set to true"]))
        #expect(call.rendered(value: .number(16)).body == ["s": 16, "note": "set to 16"])
    }

    @Test("Values in a path are percent-escaped so they stay one segment")
    func pathEscaping() {
        let call = MappedCall(method: "POST", path: "/api/alerts/acknowledge/$value")
        #expect(call.rendered(value: .number(42)).path == "/api/alerts/acknowledge/42")
        #expect(call.rendered(value: .string("../../x y?#")).path == "/api/alerts/acknowledge/%2E%2E%2F%2E%2E%2Fx%20y%3F%23")
        #expect(call.rendered(value: .string("Ä")).path == "/api/alerts/acknowledge/%C3%84")
    }

    @Test("$child is the API's own id: text in paths and queries, typed in a body")
    func child() {
        let call = MappedCall(
            method: "POST",
            path: "/api/v1/point/$child/reset",
            query: [QueryItem(name: "cp", value: "$child"), QueryItem(name: "type", value: "$value")],
            body: ["connector_id": "$child", "type": "$value"]
        )
        let rendered = call.rendered(value: .string("Hard"), childKey: .number(2))
        #expect(rendered.path == "/api/v1/point/2/reset")
        #expect(rendered.query == [QueryItem(name: "cp", value: "2"), QueryItem(name: "type", value: "Hard")])
        #expect(rendered.body == ["connector_id": 2, "type": "Hard"])
        #expect(call.rendered(value: "x", child: "CP 1").path == "/api/v1/point/CP%201/reset")
        #expect(call.usesChild)
        #expect(!MappedCall(method: "GET", path: "/x/$value").usesChild)
    }

    @Test("$$ is a literal dollar and other dollars stay")
    func dollars() {
        let call = MappedCall(method: "POST", path: "/a", body: ["price": "$$value", "cost": "5 $", "raw": "$valueX"])
        #expect(call.rendered(value: 1).body == ["price": "$value", "cost": "5 $", "raw": "1X"])
    }

    @Test("A command validates, transforms, then renders")
    func prepare() {
        let command = CommandMapping(
            id: "max_current",
            component: .number,
            validation: CommandValidation(kind: .number, min: 6, max: 32),
            transforms: [.scale(1000)],
            target: .call(MappedCall(method: "POST", path: "/limit", body: ["ma": "$value"]))
        )
        #expect(command.prepare(.number(16)) == .success(.number(16000)))
        #expect(command.prepare(.number(40)) == .failure(ValidationFailure(message: "must be between 6 and 32, got 40")))
    }
}
