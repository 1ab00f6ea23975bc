import BridgeCore
import Simulators
import Testing

/// The `/ws` interface: greeting, token per frame, keep-alive, charge point events, transaction values.
@Suite("OCPP CSMS simulator: WebSocket")
struct OCPPCSMSStreamTests {
    @Test("the server greets with status ping; frames without a valid token get an error; PingConnection answers ping")
    func greetingAndAuth() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let socket = CSMSSocket.open(port: try #require(simulator.port))
            let greeting = try #require(JSON.decode(try await socket.messages(atLeast: 1)[0]))
            #expect(greeting["status"]?.string == "ping")
            socket.send("PingConnection", token: nil)
            socket.send("PingConnection", token: "wrong")
            socket.sendRaw("not json")
            socket.send("PingConnection", token: client.token)
            socket.send("Fly", token: client.token)
            let answers = try await socket.messages(atLeast: 6).dropFirst().compactMap { JSON.decode($0) }
            #expect(answers.map { $0["status"]?.string } == ["error", "error", "error", "ping", "error"])
            #expect(answers[0]["info"]?.string == "not authorized")
            await socket.close()
        }
    }

    @Test("ListenChargePoints: status changes, offline/online and command effects arrive as charge-point events")
    func chargePointEvents() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let socket = CSMSSocket.open(port: try #require(simulator.port))
            socket.send("ListenChargePoints", token: client.token)
            _ = try await socket.first(where: "the listen answer") { $0["status"]?.string == "success" }
            try simulator.setOnline("CP003", true)
            let online = try await socket.first(where: "CP003 online") { $0["data"]?.string == "CP003" }
            #expect(online["status"]?.string == "event")
            #expect(online["stage"]?.string == "charge-point-event")
            _ = try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 1, payload: "TAG001")
            let preparing = try await socket.first(where: "CP001 preparing") { $0["connector_status"]?.string == "Preparing" }
            #expect(preparing["data"]?.string == "CP001")
            #expect(preparing["connector_id"]?.integer == 1)
            simulator.tick()
            _ = try await socket.first(where: "CP001 charging") { $0["connector_status"]?.string == "Charging" }
            await socket.close()
        }
    }

    @Test("ListenTransaction: a meter value frame per tick, then the stop frame; unknown transactions are errors")
    func transactionValues() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let id = try simulator.plugIn(chargePointID: "CP002", connectorID: 1, idTag: "TAG001", stateOfCharge: 30)
            let socket = CSMSSocket.open(port: try #require(simulator.port))
            socket.send("ListenTransaction", token: client.token, ["transaction_id": .number(999)])
            _ = try await socket.first(where: "an error for 999") { $0["status"]?.string == "error" }
            socket.send("ListenTransaction", token: client.token, ["transaction_id": .number(Double(id))])
            _ = try await socket.first(where: "the listen answer") { $0["status"]?.string == "success" && $0["id"]?.integer == Int64(id) }
            simulator.tick(times: 2)
            let values = try await socket.frames(status: "value", atLeast: 2)
            #expect(values.allSatisfy { $0["id"]?.integer == Int64(id) && $0["power_rate"]?.integer ?? 0 > 0 })
            let registers = values.compactMap { $0["meter_value"]?["value"]?.integer }
            #expect(registers.count == 2 && registers[0] < registers[1])
            #expect(values[0]["meter_value"]?["measurand"]?.string == "Energy.Active.Import.Register")
            _ = try await client.csc("RemoteStopTransaction", chargePoint: "CP002", payload: String(id))
            let stop = try await socket.first(where: "the stop frame") { $0["stage"]?.string == "stop" }
            #expect(stop["id"]?.integer == Int64(id))
            await socket.close()
        }
    }

    @Test("CheckStatus names the account's active transaction; StartTransaction and StopTransaction work over the socket")
    func socketCommands() async throws {
        try await withCSMS(.test()) { simulator, client in
            try Task.checkCancellation()
            let socket = CSMSSocket.open(port: try #require(simulator.port))
            socket.send("StartTransaction", token: client.token, ["charge_point_id": "CP001", "connector_id": .number(2)])
            let started = try await socket.first(where: "the start answer") { $0["stage"]?.string == "start" }
            #expect(started["status"]?.string == "success")
            simulator.tick()
            let id = try #require(simulator.state.activeTransactions.first?.id)
            socket.send("CheckStatus", token: client.token)
            let status = try await socket.first(where: "the status") { $0["info"]?.string?.hasPrefix("active transaction") == true }
            #expect(status["id"]?.integer == Int64(id))
            socket.send("StopTransaction", token: client.token, ["charge_point_id": "CP001", "transaction_id": .number(Double(id))])
            let stopped = try await socket.first(where: "the stop answer") { $0["stage"]?.string == "stop" }
            #expect(stopped["status"]?.string == "success")
            #expect(simulator.state.transaction(id)?.isFinished == true)
            await socket.close()
        }
    }
}
