import BridgeCore
import Simulators
import Testing

/// `POST /api/v1/csc`: HTTP 200 whatever happened, `status: success|error` and `info` as a JSON string.
@Suite("OCPP CSMS simulator: /csc commands")
struct OCPPCSMSCommandTests {
    @Test("RemoteStartTransaction is Accepted, the connector prepares, and the transaction begins on the next tick")
    func remoteStart() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let answer = try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 1, payload: "TAG001")
            #expect(answer.http == 200)
            #expect(answer.status == "success")
            #expect(answer.info?["status"]?.string == "Accepted")
            #expect(simulator.state.connector("CP001", 1)?.status == "Preparing")
            #expect(simulator.state.activeTransactions.isEmpty, "accepted only means the charger will try")
            simulator.tick()
            let transaction = try #require(simulator.state.activeTransactions.first)
            #expect(transaction.idTag == "TAG001")
            #expect(simulator.state.connector("CP001", 1)?.transactionID == transaction.id)
            simulator.tick()
            #expect(simulator.state.connector("CP001", 1)?.status == "Charging")
            #expect(simulator.state.transaction(transaction.id)?.power ?? 0 > 0)

            let busy = try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 1, payload: "TAG001")
            #expect(busy.status == "success" && busy.info?["status"]?.string == "Rejected", "the connector is busy")
            let unknownTag = try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 2, payload: "NOBODY")
            #expect(unknownTag.info?["status"]?.string == "Rejected")
            let noTag = try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 2, payload: "")
            #expect(noTag.status == "error")
            let noConnector = try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 9, payload: "TAG001")
            #expect(noConnector.status == "error")
            #expect(noConnector.info?["error"]?.string?.contains("connector 9") == true)
        }
    }

    @Test("RemoteStopTransaction with the transaction id stops it: Finishing, then Available; a wrong id is Rejected")
    func remoteStop() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let id = try simulator.plugIn(chargePointID: "CP001", connectorID: 2, idTag: "TAG001", stateOfCharge: 40)
            simulator.tick()
            let wrong = try await client.csc("RemoteStopTransaction", chargePoint: "CP001", connector: 2, payload: "12")
            #expect(wrong.status == "success" && wrong.info?["status"]?.string == "Rejected")
            let garbage = try await client.csc("RemoteStopTransaction", chargePoint: "CP001", connector: 2, payload: "abc")
            #expect(garbage.status == "error")
            let stop = try await client.csc("RemoteStopTransaction", chargePoint: "CP001", connector: 2, payload: String(id))
            #expect(stop.info?["status"]?.string == "Accepted")
            let finished = try #require(simulator.state.transaction(id))
            #expect(finished.isFinished && finished.reason == "Remote")
            #expect(simulator.state.connector("CP001", 2)?.status == "Finishing")
            #expect(simulator.state.connector("CP001", 2)?.transactionID == nil)
            simulator.tick()
            #expect(simulator.state.connector("CP001", 2)?.status == "Available")
            let info = try #require(try await client.get("/api/v1/transactions/info/\(id)").json)
            #expect(info["is_finished"]?.bool == true)
            #expect(info["reason"]?.string == "Remote")
            #expect(info["meter_stop"]?.integer == Int64(finished.meterNow))
        }
    }

    @Test("Reset Soft/Hard: the charge point goes offline (sessions stop) and comes back after the reset ticks; case-sensitive")
    func reset() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let id = try simulator.plugIn(chargePointID: "CP001", connectorID: 1, idTag: "TAG001")
            #expect(try await client.csc("Reset", chargePoint: "CP001", payload: "soft").status == "error", "case-sensitive")
            let soft = try await client.csc("Reset", chargePoint: "CP001", payload: "Soft")
            #expect(soft.info?["status"]?.string == "Accepted")
            #expect(simulator.state.chargePoint("CP001")?.isOnline == false)
            #expect(simulator.state.transaction(id)?.reason == "SoftReset")
            #expect(try await client.get("/api/v1/point/CP001").json?["is_online"]?.bool == false)
            simulator.tick()
            #expect(simulator.state.chargePoint("CP001")?.isOnline == true)
            #expect(simulator.state.connector("CP001", 1)?.status == "Available")

            #expect(try await client.csc("Reset", chargePoint: "CP002", payload: "Hard").info?["status"]?.string == "Accepted")
            simulator.tick()
            #expect(simulator.state.chargePoint("CP002")?.isOnline == false, "a hard reset takes twice as long")
            simulator.tick()
            #expect(simulator.state.chargePoint("CP002")?.isOnline == true)
        }
    }

    @Test("errors: unknown feature, unknown or offline charge point, UnlockConnector not supported for OCPP 1.6")
    func errors() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let unknownFeature = try await client.csc("MakeCoffee", chargePoint: "CP001")
            #expect(unknownFeature.http == 200 && unknownFeature.status == "error")
            let unknownPoint = try await client.csc("Reset", chargePoint: "NOPE", payload: "Soft")
            #expect(unknownPoint.status == "error")
            #expect(unknownPoint.info?["error"]?.string?.contains("not found") == true)
            let offline = try await client.csc("RemoteStartTransaction", chargePoint: "CP003", connector: 1, payload: "TAG001")
            #expect(offline.status == "error")
            #expect(offline.info?["error"]?.string?.contains("not connected") == true)
            let unlock = try await client.csc("UnlockConnector", chargePoint: "CP001", connector: 1)
            #expect(unlock.status == "error")
            #expect(unlock.info?["error"]?.string?.contains("not supported") == true)

            try simulator.setOnline("CP003", true)
            #expect(try await client.csc("RemoteStartTransaction", chargePoint: "CP003", connector: 1, payload: "TAG001").info?["status"]?.string == "Accepted")
        }
    }

    @Test("a charger that does not answer: status error after the command timeout")
    func unresponsive() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            try simulator.setUnresponsive("CP002", true)
            let answer = try await client.csc("Reset", chargePoint: "CP002", payload: "Soft")
            #expect(answer.http == 200)
            #expect(answer.status == "error")
            #expect(answer.info?["error"]?.string?.contains("did not answer") == true)
            #expect(simulator.state.chargePoint("CP002")?.isOnline == true, "nothing happened")
            try simulator.setUnresponsive("CP002", false)
            #expect(try await client.csc("Reset", chargePoint: "CP002", payload: "Soft").status == "success")
        }
    }

    @Test("forced outcomes: rejectCommands answers Rejected, commandErrors fails, each for the given number of commands")
    func forcedOutcomes() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            simulator.faults.enable(.rejectCommands, times: 1)
            let rejected = try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 1, payload: "TAG001")
            #expect(rejected.status == "success" && rejected.info?["status"]?.string == "Rejected")
            #expect(simulator.state.connector("CP001", 1)?.status == "Available", "nothing happened")
            simulator.faults.enable(.commandErrors, times: 1)
            let failed = try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 1, payload: "TAG001")
            #expect(failed.status == "error" && failed.info?["error"]?.string != nil)
            let accepted = try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 1, payload: "TAG001")
            #expect(accepted.info?["status"]?.string == "Accepted")
        }
    }

    @Test("configuration and availability: Get/ChangeConfiguration, ChangeAvailability, TriggerMessage")
    func configurationAndAvailability() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let all = try await client.csc("GetConfiguration", chargePoint: "CP001")
            #expect(all.info?["configurationKey"]?.array?.count == 6)
            let change = try await client.csc(
                "ChangeConfiguration", chargePoint: "CP001", payload: #"{"key": "HeartbeatInterval", "value": "60"}"#)
            #expect(change.info?["status"]?.string == "Accepted")
            let one = try await client.csc("GetConfiguration", chargePoint: "CP001", payload: "HeartbeatInterval")
            #expect(one.info?["configurationKey"]?[0]?["value"]?.string == "60")
            let readonly = try await client.csc("ChangeConfiguration", chargePoint: "CP001", payload: #"{"key": "NumberOfConnectors", "value": "4"}"#)
            #expect(readonly.info?["status"]?.string == "Rejected")
            let unknown = try await client.csc("ChangeConfiguration", chargePoint: "CP001", payload: #"{"key": "Nope", "value": "1"}"#)
            #expect(unknown.info?["status"]?.string == "NotSupported")
            #expect(try await client.csc("ChangeConfiguration", chargePoint: "CP001", payload: "HeartbeatInterval=60").status == "error")

            let inoperative = try await client.csc("ChangeAvailability", chargePoint: "CP001", connector: 2, payload: "Inoperative")
            #expect(inoperative.info?["status"]?.string == "Accepted")
            #expect(simulator.state.connector("CP001", 2)?.status == "Unavailable")
            #expect(try await client.csc("RemoteStartTransaction", chargePoint: "CP001", connector: 2, payload: "TAG001").info?["status"]?.string == "Rejected")
            _ = try await client.csc("ChangeAvailability", chargePoint: "CP001", connector: 2, payload: "Operative")
            #expect(simulator.state.connector("CP001", 2)?.status == "Available")

            #expect(try await client.csc("TriggerMessage", chargePoint: "CP001", payload: "StatusNotification").info?["status"]?.string == "Accepted")
            #expect(try await client.csc("TriggerMessage", chargePoint: "CP001", payload: "Nonsense").info?["status"]?.string == "NotImplemented")
        }
    }
}
