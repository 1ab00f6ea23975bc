import BridgeCore
import HTTPTypes
import NIOCore
import Simulators
import Testing

/// The shared fault plan, exercised through the Cozify HAN simulator over real sockets.
@Suite("Cozify HAN simulator: faults")
struct CozifyHANFaultTests {
    @Test("httpError on all paths, then on given paths only; deactivated, the paths answer again")
    func httpError() async throws {
        try await withHAN { simulator, http in
            simulator.emitTelegramNow()
            simulator.faults.activate(.httpError(500))
            let failed = [
                try await http.get("/han"), try await http.get("/meter"),
                try await http.post("/configuration", body: #"{"s": false}"#),
            ]
            #expect(failed.map(\.status) == [500, 500, 500])
            #expect(failed.allSatisfy { $0.body.isEmpty })
            #expect(simulator.state.configuration.s, "a failed POST changes nothing")

            simulator.faults.clear()
            simulator.faults.activate(.httpError(503), on: .paths(["/meter"]))
            #expect(try await http.get("/meter").status == 503)
            #expect(try await http.get("/han").status == 200)
            simulator.faults.deactivate(.httpError(503))
            let recovered = try await http.get("/meter")
            #expect(recovered.status == 200)
            #expect(recovered.json?["type"]?.string == "HAN_METER_MESSAGE")
        }
    }

    @Test("malformedJSON breaks HTTP bodies and SSE/WebSocket payloads; switched off, they parse again")
    func malformedJSON() async throws {
        try await withHAN(.streaming) { simulator, http in
            simulator.emitTelegramNow()
            simulator.faults.activate(.malformedJSON)
            for path in ["/meter", "/han", "/configuration"] {
                let broken = try await http.get(path)
                #expect(broken.status == 200, "\(path)")
                #expect(broken.text.hasPrefix("{"), "\(path)")
                #expect(broken.json == nil, "\(path) must not parse")
            }

            let sse = try await SSEStream.open(http)
            defer { sse.cancel() }
            let events = Array(try await sse.events(atLeast: 2).prefix(2))
            #expect(events.map(\.event) == ["HAN_STATE_MESSAGE", "HAN_METER_MESSAGE"], "event names stay intact")
            #expect(events.allSatisfy { $0.json == nil && $0.data.hasPrefix("{") })

            let ws = WebSocketStream.open(port: try port(of: simulator), closeAfter: 2)
            let messages = try await ws.messages(atLeast: 2)
            #expect(messages.allSatisfy { JSON.decode($0) == nil && $0.hasPrefix("{") })
            _ = try await ws.end()

            simulator.faults.deactivate(.malformedJSON)
            #expect(try await http.get("/meter").json?["type"]?.string == "HAN_METER_MESSAGE")
        }
    }

    @Test("malformedJSON on one path leaves the others intact")
    func malformedJSONOnScope() async throws {
        try await withHAN { simulator, http in
            simulator.faults.activate(.malformedJSON, on: .paths(["/health"]))
            let broken = try await http.get("/health")
            #expect(broken.status == 200)
            #expect(broken.json == nil)
            let intact = try await http.get("/han")
            #expect(intact.json?["type"]?.string == "HAN_STATE_MESSAGE")
        }
    }

    @Test("without a configured token no Authorization is needed; the unauthorized fault forces 401")
    func unauthorizedFault() async throws {
        try await withHAN { simulator, http in
            #expect(try await http.get("/han").status == 200)
            simulator.faults.activate(.unauthorized, on: .paths(["/han"]))
            let denied = try await http.get("/han", headers: ["Authorization": "Bearer anything"])
            #expect(denied.status == 401)
            #expect(denied.headers["www-authenticate"] == "Bearer")
            #expect(try await http.get("/health").status == 200)
            simulator.faults.deactivate(.unauthorized)
            #expect(try await http.get("/han").status == 200)
        }
    }

    @Test("with a configured token every request needs it; the log redacts it")
    func bearerToken() async throws {
        try await withHAN(.test(token: "s3cret")) { simulator, http in
            let missing = try await http.get("/han")
            let wrong = try await http.get("/han", headers: ["Authorization": "Bearer nope"])
            let basic = try await http.get("/han", headers: ["Authorization": "Basic czNjcmV0"])
            let post = try await http.post("/configuration", body: #"{"s": false}"#)
            let right = try await http.get("/han", headers: ["Authorization": "Bearer s3cret"])
            #expect([missing, wrong, basic, post].map(\.status) == [401, 401, 401, 401])
            #expect(missing.headers["www-authenticate"] == "Bearer")
            #expect(right.status == 200)
            #expect(simulator.state.configuration.s, "the refused POST changed nothing")

            let recorded = simulator.requests.requests(path: "/han").map { $0.headers["authorization"] }
            #expect(recorded == [nil, "Bearer ***", "Basic ***", "Bearer ***"])
            #expect(!simulator.requests.all.contains { $0.headers.values.contains { $0.contains("s3cret") } })
        }
    }

    @Test("slow holds the answer back while other paths answer; it comes, normal, when the slow wait ends")
    func slow() async throws {
        try await withHAN { simulator, http in
            // Far longer than the test: only the simulator's stop ends the wait.
            simulator.faults.activate(.slow(.seconds(3_600)), on: .paths(["/health"]))
            let slow = PendingRequest { try await http.get("/health") }
            defer { slow.cancel() }
            try await eventually("the slow request to reach the simulator") { simulator.requests.count(path: "/health") == 1 }
            #expect(try await http.get("/han").status == 200)
            #expect(!slow.isFinished, "the slow request must still be waiting")

            // Stopping ends the wait; the request is then handled normally.
            await simulator.stop()
            let answer = try await slow.result()
            #expect(answer.status == 200)
            #expect(answer.json?["type"]?.string == "HAN_HEALTH_MESSAGE")
        }
    }

    @Test("timeout never answers while active; switched off, the waiting request is answered normally")
    func timeout() async throws {
        try await withHAN { simulator, http in
            simulator.faults.activate(.timeout, on: .paths(["/han"]))
            let hanging = PendingRequest { try await http.get("/han") }
            defer { hanging.cancel() }
            try await eventually("the hanging request to reach the simulator") { simulator.requests.count(path: "/han") == 1 }
            #expect(try await http.get("/health").status == 200)
            #expect(!hanging.isFinished, "the request must still hang")

            simulator.faults.deactivate(.timeout)
            let answer = try await hanging.result()
            #expect(answer.status == 200)
            #expect(answer.json?["type"]?.string == "HAN_STATE_MESSAGE")
            #expect(simulator.requests.count(path: "/han") == 1)
        }
    }

    @Test("stop() ends a request hanging in a timeout with 503")
    func stopWhileHanging() async throws {
        try await withHAN(keepAlive: false) { simulator, http in
            simulator.faults.activate(.timeout)
            let hanging = PendingRequest { try await http.get("/han") }
            defer { hanging.cancel() }
            try await eventually("the hanging request to reach the simulator") { simulator.requests.count(path: "/han") == 1 }
            try await withDeadline("stop() while a request hangs") { await simulator.stop() }
            #expect(try await hanging.result().status == 503)
            #expect(!simulator.faults.rules.isEmpty, "stopping does not switch the fault off")
        }
    }

    @Test("down: stopAbruptly refuses connections; start() comes back on the same port like a reboot")
    func downAndRestart() async throws {
        try await withHAN(keepAlive: false) { simulator, http in
            let port = try port(of: simulator)
            simulator.emitTelegramNow()
            #expect(try await http.get("/meter").status == 200)
            #expect(try await http.get("/health").json?["cpu_reset_reason"]?.string == "RST_POWERON")

            await simulator.stopAbruptly()
            let probe = TestHTTPClient(port: port, keepAlive: false, connectTimeout: .seconds(1))
            await #expect(throws: (any Error).self) { try await probe.get("/han") }
            try await probe.shutdown()

            // Restarting uses the port the first start got.
            #expect(try await simulator.start() == port)
            #expect(try await http.get("/han").status == 200)
            #expect(try await http.get("/meter").status == 503, "a rebooted reader has no meter data yet")
            #expect(try await http.get("/meter/id").status == 503)
            #expect(try await http.get("/health").json?["cpu_reset_reason"]?.string == "RST_SW")
            simulator.emitTelegramNow()
            #expect(try await http.get("/meter").status == 200)

            #expect(try await simulator.restart() == port)
            #expect(try await http.get("/meter").status == 503)
            #expect(try await http.get("/han").status == 200)
        }
    }

    @Test("the request log records method, path, query, headers and body; a WebSocket upgrade once")
    func requestLog() async throws {
        try await withHAN(.test(token: "t")) { simulator, http in
            _ = try await http.get("/han?x=1", headers: ["Authorization": "Bearer t", "X-Test": "yes"])
            _ = try await http.post("/set-up", body: #"{"s": true, "ss": "A", "sp": "B"}"#, headers: ["Authorization": "Bearer t"])
            let ws = WebSocketStream.open(port: try port(of: simulator), headers: [.authorization: "Bearer t"], closeAfter: 1)
            try await ws.messages(atLeast: 1)
            _ = try await ws.end()

            let log = simulator.requests.all
            #expect(log.map(\.method) == ["GET", "POST", "GET"])
            #expect(log.map(\.path) == ["/han", "/set-up", "/ws"])
            #expect(log.first?.query == "x=1")
            #expect(log.first?.headers["x-test"] == "yes")
            #expect(log.first?.headers["authorization"] == "Bearer ***")
            #expect(log.dropFirst().first?.bodyString == #"{"s": true, "ss": "A", "sp": "B"}"#)
            #expect(log.last?.headers["upgrade"]?.lowercased() == "websocket")
            #expect(simulator.requests.count(method: "POST") == 1)
            #expect(simulator.requests.count(method: "post", path: "/set-up") == 1)
            simulator.requests.clear()
            #expect(simulator.requests.all.isEmpty)
        }
    }
}
