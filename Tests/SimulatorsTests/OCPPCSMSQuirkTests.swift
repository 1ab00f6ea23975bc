import BridgeCore
import NIOCore
import Simulators
import Testing

/// The real-server behaviours of FIELD-NOTES ("OCPP CSMS") and the shared fault plan.
@Suite("OCPP CSMS simulator: quirks and faults")
struct OCPPCSMSQuirkTests {
    @Test("by default a lower-case scheme and a bare token are accepted; strictBearer accepts only 'Bearer <token>'")
    func strictBearer() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let token = try #require(client.token)
            #expect(try await client.http.get("/api/v1/chp", headers: ["Authorization": "bearer \(token)"]).status == 200)
            #expect(try await client.http.get("/api/v1/chp", headers: ["Authorization": token]).status == 200)
            simulator.faults.enable(.strictBearer)
            #expect(try await client.http.get("/api/v1/chp", headers: ["Authorization": "bearer \(token)"]).status == 401)
            #expect(try await client.http.get("/api/v1/chp", headers: ["Authorization": token]).status == 401)
            #expect(try await client.get("/api/v1/chp").status == 200)
        }
    }

    @Test("idleTransactionMinusOne: idle connectors report -1; busy ones their transaction id")
    func idleMinusOne() async throws {
        try await withCSMS(.test(quirks: [.idleTransactionMinusOne])) { simulator, client in
            try Task.checkCancellation()
            let id = try simulator.plugIn(chargePointID: "CP001", connectorID: 1, idTag: "TAG001")
            let point = try #require(try await client.get("/api/v1/point/CP001").json)
            #expect(point["connectors"]?[0]?["current_transaction_id"]?.integer == Int64(id))
            #expect(point["connectors"]?[1]?["current_transaction_id"]?.integer == -1)
        }
    }

    @Test("nullLists: empty lists are null (/transactions/active, /chp/{search}, meter_values); full ones stay lists")
    func nullLists() async throws {
        try await withCSMS(.test(quirks: [.nullLists])) { simulator, client in
            try Task.checkCancellation()
            #expect(try await client.get("/api/v1/transactions/active").json == .null)
            #expect(try await client.get("/api/v1/chp/nothing").json == .null)
            #expect(try await client.get("/api/v1/chp").json?.array?.count == 3)
            try simulator.plugIn(chargePointID: "CP001", connectorID: 1, idTag: "TAG001")
            let session = try #require(try await client.get("/api/v1/transactions/active").json?[0])
            #expect(session["meter_values"] == .null, "no meter value before the first tick")
            #expect(session["payment_orders"] == .null)
        }
    }

    @Test("nullLists with no charge points: /chp is null")
    func nullChargePoints() async throws {
        try await withCSMS(.test(quirks: [.nullLists], chargePoints: [])) { _, client in
            try Task.checkCancellation()
            let result = try await client.get("/api/v1/chp")
            #expect(result.status == 200)
            #expect(result.text == "null")
        }
    }

    @Test("unknownPoint400: an unknown point answers 400 with the CSMS error body")
    func unknownPoint400() async throws {
        try await withCSMS(.test(quirks: [.unknownPoint400])) { _, client in
            try Task.checkCancellation()
            let result = try await client.get("/api/v1/point/NOPE")
            #expect(result.status == 400)
            #expect(result.json?["status_code"]?.integer == 2001)
        }
    }

    @Test("omitZeroFields: WebSocket values and meter values leave out zero numbers; without it they are sent")
    func omitZeroFields() async throws {
        try await withCSMS(.test(quirks: [.omitZeroFields])) { simulator, client in
            try Task.checkCancellation()
            let id = try simulator.plugIn(chargePointID: "CP001", connectorID: 1, idTag: "TAG001", stateOfCharge: 10)
            let socket = CSMSSocket.open(port: try #require(simulator.port))
            socket.send("ListenTransaction", token: client.token, ["transaction_id": .number(Double(id))])
            _ = try await socket.first(where: "the listen answer") { $0["status"]?.string == "success" }
            // Before the first tick the session has drawn nothing yet: power, energy, price and minute are 0.
            _ = try await client.csc("TriggerMessage", chargePoint: "CP001", payload: "MeterValues")
            let value = try await socket.first(where: "a value") { $0["status"]?.string == "value" }
            for key in ["minute", "power_rate", "power", "price"] { #expect(value[key] == nil, "\(key) = 0 is omitted") }
            #expect(value["meter_value"]?["consumed_energy"] == nil)
            #expect(value["id"]?.integer == Int64(id))
            simulator.faults.disable(.omitZeroFields)
            _ = try await client.csc("TriggerMessage", chargePoint: "CP001", payload: "MeterValues")
            let full = try #require(try await socket.frames(status: "value", atLeast: 2).last)
            for key in ["minute", "power_rate", "power", "price"] { #expect(full[key]?.integer == 0, "\(key) is sent") }
            #expect(full["meter_value"]?["consumed_energy"]?.integer == 0)
            await socket.close()
        }
    }

    @Test("the real-server switch turns on all six field-note quirks")
    func realServer() {
        #expect(
            OCPPCSMSSimulator.realServerQuirks
                == [.strictBearer, .idleTransactionMinusOne, .nullLists, .unknownPoint400, .omitZeroFields, .periodicEvents])
    }

    @Test("periodicEvents: every tick sends a Heartbeat event per online charge point; without it, only changes are events")
    func periodicEvents() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let socket = CSMSSocket.open(port: try #require(simulator.port))
            socket.send("ListenChargePoints", token: client.token)
            _ = try await socket.first(where: "the listen answer") { $0["status"]?.string == "success" }
            simulator.tick()
            simulator.faults.enable(.periodicEvents)
            simulator.tick()
            let events = try await socket.frames(status: "event", atLeast: 2)
            #expect(events.compactMap { $0["data"]?.string } == ["CP001", "CP002"], "CP003 is offline; the first tick changed nothing")
            #expect(events.allSatisfy { $0["info"]?.string?.contains("Heartbeat") == true })
            await socket.close()
        }
    }

    @Test("faults: 500 and 429 on a path, 401 whatever the token, malformed JSON, then back to normal")
    func faults() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            simulator.faults.activate(.httpError(500), on: .paths(["/api/v1/chp"]))
            #expect(try await client.get("/api/v1/chp").status == 500)
            #expect(try await client.get("/api/v1/transactions/active").status == 200)
            simulator.faults.clear()
            simulator.faults.activate(.httpError(429))
            #expect(try await client.get("/api/v1/chp").status == 429)
            simulator.faults.clear()
            simulator.faults.activate(.unauthorized)
            #expect(try await client.get("/api/v1/chp").status == 401)
            simulator.faults.clear()
            simulator.faults.activate(.malformedJSON)
            let broken = try await client.get("/api/v1/chp")
            #expect(broken.status == 200 && broken.json == nil && broken.text.hasPrefix("["))
            simulator.faults.clear()
            #expect(try await client.get("/api/v1/chp").json?.array?.count == 3)
            #expect(simulator.requests.count(method: "GET", path: "/api/v1/chp") == 5)
            #expect(simulator.requests.requests(path: "/api/v1/chp").allSatisfy { $0.headers["authorization"] == "Bearer ***" })
        }
    }

    @Test("faults: a timeout hangs until switched off; slow delays; down refuses; restart keeps tokens and state")
    func timeoutAndDown() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            simulator.faults.activate(.timeout, on: .paths(["/api/v1/chp"]))
            async let hung = client.get("/api/v1/chp")
            try await eventually("the hanging request to arrive") { simulator.requests.count(path: "/api/v1/chp") == 1 }
            simulator.faults.deactivate(.timeout)
            #expect(try await hung.status == 200, "answered normally once the fault is off")
            simulator.faults.activate(.slow(.milliseconds(50)), on: .paths(["/api/v1/chp"]))
            #expect(try await client.get("/api/v1/chp").json?.array?.count == 3, "slow, then answered")
            #expect(simulator.faults.faults(for: "/api/v1/chp") == [.slow(.milliseconds(50))])
            simulator.faults.clear()

            try simulator.plugIn(chargePointID: "CP001", connectorID: 1, idTag: "TAG001")
            await simulator.stopAbruptly()
            let down = TestHTTPClient(port: try #require(simulator.port), keepAlive: false, connectTimeout: .milliseconds(200))
            await #expect(throws: (any Error).self) { try await down.get("/api/v1/chp") }
            try await down.shutdown()
            try await simulator.start()
            let fresh = CSMSClient(port: try #require(simulator.port))
            fresh.use(token: client.token)
            #expect(try await fresh.get("/api/v1/transactions/active").json?.array?.count == 1, "the token and the session survive")
            try await fresh.shutdown()
        }
    }

    @Test("faults: dropStreams closes open sockets and new ones after the greeting; malformedJSON truncates frames")
    func streamFaults() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let socket = CSMSSocket.open(port: try #require(simulator.port))
            try await socket.messages(atLeast: 1)
            simulator.faults.dropStreams()
            try await socket.waitUntilEnded()

            simulator.faults.activate(.dropStreams)
            let dropped = CSMSSocket.open(port: try #require(simulator.port))
            try await dropped.waitUntilEnded()
            #expect(dropped.messages.count == 1, "the greeting only")
            simulator.faults.clear()

            simulator.faults.activate(.malformedJSON)
            let broken = CSMSSocket.open(port: try #require(simulator.port))
            let greeting = try await broken.messages(atLeast: 1)[0]
            #expect(JSON.decode(greeting) == nil && greeting.hasPrefix("{"))
            broken.send("PingConnection", token: client.token)
            try await broken.messages(atLeast: 2)
            #expect(broken.json.isEmpty)
            await broken.close()
        }
    }
}
