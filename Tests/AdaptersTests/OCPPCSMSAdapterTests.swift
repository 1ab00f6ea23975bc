import Adapters
import BridgeCore
import Foundation
import Logging
import Simulators
import SourceKit
import Synchronization
import Testing
import TestSupport

/// The OCPP CSMS adapter against its simulator over real loopback sockets.
@Suite("OCPPCSMSAdapter against the simulator", .serialized)
struct OCPPCSMSAdapterTests {
    static let password = "bridge-password"

    static func simulatorConfiguration(quirks: Set<Quirk> = []) -> OCPPCSMSSimulator.Configuration {
        OCPPCSMSSimulator.Configuration(seed: 9, tickInterval: nil, simulatedStep: .seconds(60), commandTimeout: .milliseconds(200), quirks: quirks)
    }

    static func source(
        _ url: String, options: [String: ConfigValue] = [:], timeout: Duration = .seconds(10)
    ) -> SourceConfiguration {
        var all: [String: ConfigValue] = [
            "username": .string("bridge@example.com"), "password": .secret(Secret(password)),
            "remote_start_id_tag": .string("TAG001"), "poll_interval": .duration(.seconds(15)),
        ]
        for (key, value) in options { all[key] = value }
        return SourceConfiguration(id: "garage", type: .ocppCSMS, url: URL(string: url), timeout: timeout, options: all)
    }

    func withAdapter<T: Sendable>(
        _ configuration: OCPPCSMSSimulator.Configuration = Self.simulatorConfiguration(),
        options: [String: ConfigValue] = [:],
        timeout: Duration = .seconds(10),
        without: [String] = [],
        logger: Logger = Logger(label: "test"),
        _ body: @Sendable (OCPPCSMSSimulator, OCPPCSMSAdapter) async throws -> T
    ) async throws -> T {
        let simulator = OCPPCSMSSimulator(configuration: configuration)
        let port = try await simulator.start()
        let pool = HTTPClientPool()
        do {
            var source = Self.source("http://127.0.0.1:\(port)", options: options, timeout: timeout)
            for key in without { source.options[key] = nil }
            let adapter = try OCPPCSMSAdapter(configuration: source, pool: pool, logger: logger)
            let result = try await body(simulator, adapter)
            await pool.shutdown()
            await simulator.stop()
            return result
        } catch {
            await pool.shutdown()
            await simulator.stop()
            throw error
        }
    }

    /// The failure of `body`, which must throw.
    func failure(_ body: () async throws -> Int?) async -> CommandFailure? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? CommandFailure ?? CommandFailure(.internalError, "not a CommandFailure: \(error)")
        }
    }

    static func item(_ document: JSONValue?, _ point: String, _ connector: Int) -> JSONValue? {
        document?.arrayValue?.first { $0["charge_point_id"]?.stringValue == point && $0["connector_id"]?.numberValue == Double(connector) }
    }

    // MARK: Documents

    @Test("documents: charge_points is /chp, connectors joins each connector with its session, transactions is /transactions/active")
    func documents() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            #expect(adapter.polls.map(\.endpoint) == ["charge_points", "connectors", "transactions", "account"])
            #expect(adapter.polls.prefix(3).allSatisfy { $0.interval == .seconds(15) })
            #expect(adapter.polls.last?.interval == .seconds(600))
            let points = try #require(try await adapter.read(endpoint: "charge_points")?.arrayValue)
            #expect(points.compactMap { $0["charge_point_id"]?.stringValue } == ["CP001", "CP002", "CP003"])
            #expect(points[2]["is_online"] == false)
            let idle = try #require(try await adapter.read(endpoint: "connectors")?.arrayValue)
            #expect(idle.count == 5)
            #expect(idle.allSatisfy { $0["session"] == .null && $0["status"]?.stringValue != nil })
            #expect(try await adapter.read(endpoint: "transactions") == .array([]))
            #expect(simulator.requests.count(path: "/api/v1/users/authenticate") == 1, "one login")
            #expect(simulator.requests.count(path: "/api/v1/chp") == 1, "charge_points and connectors share one /chp per round")

            let id = try simulator.plugIn(chargePointID: "CP001", connectorID: 2, idTag: "TAG001", stateOfCharge: 30)
            try simulator.plugIn(chargePointID: "CP002", connectorID: 1, idTag: "TAG002")
            simulator.tick(times: 2)
            let fresh = try await adapter.refreshDocuments()
            #expect(fresh.map(\.endpoint) == ["charge_points", "connectors", "transactions"])
            let connectors = try #require(fresh.first { $0.endpoint == "connectors" }?.document)
            let charging = try #require(Self.item(connectors, "CP001", 2))
            #expect(charging["status"] == "Charging")
            #expect(charging["power"] == 22_000, "the connector's rated power, unchanged")
            let session = try #require(charging["session"]?.objectValue)
            #expect(session["transaction_id"]?.numberValue == Double(id))
            let live = try #require(session["power_rate"]?.numberValue)
            #expect(live > 0 && live == Double(simulator.state.transaction(id)?.power ?? -1))
            #expect(session["consumed"]?.numberValue == Double(simulator.state.transaction(id)?.consumed ?? -1))
            #expect(Self.item(connectors, "CP002", 1)?["session"] == .null, "another account's session is not visible")
            #expect(Self.item(connectors, "CP002", 1)?["status"] == "Charging")
            #expect(fresh.last?.document.arrayValue?.count == 1)
            await #expect(throws: SourceError.self) { try await adapter.read(endpoint: "nonsense") }
        }
    }

    @Test("the real server's quirks: null lists are empty lists, -1 is no transaction, strict Bearer is met")
    func realServer() async throws {
        try await withAdapter(Self.simulatorConfiguration(quirks: OCPPCSMSSimulator.realServerQuirks)) { simulator, adapter in
            try Task.checkCancellation()
            #expect(try await adapter.read(endpoint: "transactions") == .array([]))
            let connectors = try #require(try await adapter.read(endpoint: "connectors"))
            #expect(Self.item(connectors, "CP001", 1)?["current_transaction_id"] == -1)
            let stop = await failure { try await adapter.perform(action: "stop_charging", value: .null, childKey: ["charge_point_id": "CP001", "connector_id": 1]) }
            #expect(stop?.code == .invalidValue)
            #expect(simulator.requests.count(path: "/api/v1/csc") == 0, "no call without a transaction")

            // Events on every tick (the real server's ~5 s cadence): refreshes keep coming, spaced out.
            let stream = try #require(adapter.stream())
            var iterator = stream.makeAsyncIterator()
            _ = try await iterator.next()
            let id = try simulator.plugIn(chargePointID: "CP002", connectorID: 1, idTag: "TAG001")
            simulator.tick()
            var seen = false
            while !seen, let document = try await iterator.next() {
                if document.endpoint == "connectors" {
                    seen = Self.item(document.document, "CP002", 1)?["session"]?["transaction_id"]?.numberValue == Double(id)
                }
                simulator.tick()
            }
            #expect(seen)
        }
    }

    @Test("the charge_points allow-list filters every document and refuses commands for other charge points without a call")
    func allowList() async throws {
        try await withAdapter(options: ["charge_points": .strings(["CP001", "CP003"])]) { simulator, adapter in
            try Task.checkCancellation()
            try simulator.plugIn(chargePointID: "CP002", connectorID: 1, idTag: "TAG001")
            let points = try #require(try await adapter.read(endpoint: "charge_points")?.arrayValue)
            #expect(points.compactMap { $0["charge_point_id"]?.stringValue } == ["CP001", "CP003"])
            #expect(try await adapter.read(endpoint: "connectors")?.arrayValue?.count == 4)
            #expect(try await adapter.read(endpoint: "transactions") == .array([]), "the CP002 session is filtered out")
            let refused = await failure { try await adapter.perform(action: "reset_soft", value: .null, childKey: "CP002") }
            #expect(refused?.code == .unknownDevice)
            #expect(simulator.requests.count(path: "/api/v1/csc") == 0)
        }
    }

    // MARK: Auth

    @Test("token rotation: a 401 logs in again once and the read succeeds; the simulator saw two logins")
    func reauthentication() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            _ = try await adapter.read(endpoint: "charge_points")
            let before = simulator.token(username: "bridge@example.com")
            try simulator.rotateToken(username: "bridge@example.com")
            simulator.tick()
            try simulator.setOnline("CP003", true)
            let points = try #require(try await adapter.refreshDocuments().first?.document.arrayValue)
            #expect(points[2]["is_online"] == true, "values continue")
            #expect(simulator.requests.count(path: "/api/v1/users/authenticate") == 2)
            #expect(simulator.token(username: "bridge@example.com") != before)
        }
    }

    @Test("a 401 after logging in again is an auth error; a wrong password is an auth error without the password in it")
    func authErrors() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            simulator.faults.activate(.unauthorized, on: .paths(["/api/v1/chp"]))
            await #expect(throws: SourceError.unauthorized) { try await adapter.read(endpoint: "charge_points") }
            #expect(simulator.requests.count(path: "/api/v1/chp") == 2, "sent, logged in again, resent once")
        }
        try await withAdapter(options: ["password": .secret(Secret("wrong-password-123"))]) { _, adapter in
            try Task.checkCancellation()
            do {
                _ = try await adapter.read(endpoint: "charge_points")
                Issue.record("expected an auth error")
            } catch {
                #expect(error as? SourceError == .unauthorized)
                #expect(!"\(error)".contains("wrong-password-123"))
            }
        }
    }

    @Test("token configuration: logs in with the token; once another login replaced it, reads fail with an auth error")
    func tokenConfiguration() async throws {
        try await withAdapter { simulator, _ in
            try Task.checkCancellation()
            let token = try simulator.rotateToken(username: "bridge@example.com")
            let pool = HTTPClientPool()
            let source = Self.source(simulator.baseURL ?? "", options: ["token": .secret(Secret(token))])
            var tokenOnly = source
            tokenOnly.options["username"] = nil
            tokenOnly.options["password"] = nil
            let adapter = try OCPPCSMSAdapter(configuration: tokenOnly, pool: pool, logger: Logger(label: "test"))
            let points = try await adapter.read(endpoint: "charge_points")
            #expect(points?.arrayValue?.count == 3)
            let login = try #require(simulator.requests.requests(path: "/api/v1/users/authenticate").last)
            #expect(!login.bodyString.contains("username"), "a token login sends the token as the password only")
            #expect(simulator.token(username: "bridge@example.com") == token, "a token login does not rotate the token")
            try simulator.rotateToken(username: "bridge@example.com")
            await #expect(throws: SourceError.unauthorized) { try await adapter.refreshDocuments() }
            await pool.shutdown()
        }
    }

    // MARK: Errors

    @Test("errors: 500 is unavailable (after the GET retries), malformed JSON is malformed, a 429 backs off without sending")
    func readErrors() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            simulator.faults.activate(.httpError(500), on: .paths(["/api/v1/chp"]))
            do {
                _ = try await adapter.read(endpoint: "charge_points")
                Issue.record("expected 500")
            } catch {
                guard case .unavailable(let status, _)? = error as? SourceError else { throw error }
                #expect(status == 500)
            }
            #expect(simulator.requests.count(path: "/api/v1/chp") == 3, "three tries")
            simulator.faults.clear()
            simulator.faults.activate(.malformedJSON, on: .paths(["/api/v1/chp"]))
            do {
                _ = try await adapter.read(endpoint: "charge_points")
                Issue.record("expected malformed")
            } catch {
                guard case .malformedResponse? = error as? SourceError else { throw error }
            }
            simulator.faults.clear()
            #expect(try await adapter.read(endpoint: "charge_points")?.arrayValue?.count == 3, "recovers")

            simulator.faults.activate(.httpError(429), on: .paths(["/api/v1/transactions/active"]))
            do {
                _ = try await adapter.read(endpoint: "transactions")
                Issue.record("expected 429")
            } catch {
                guard case .rateLimited? = error as? SourceError else { throw error }
            }
            simulator.faults.clear()
            let sent = simulator.requests.count(path: "/api/v1/transactions/active")
            do {
                _ = try await adapter.read(endpoint: "transactions")
                Issue.record("expected the adapter to hold back after a 429")
            } catch {
                guard case .rateLimited? = error as? SourceError else { throw error }
            }
            #expect(simulator.requests.count(path: "/api/v1/transactions/active") == sent, "backs off: nothing sent")
        }
    }

    @Test("a server that does not answer in time is a timeout (after the GET retries); reads recover once it answers")
    func readTimeout() async throws {
        try await withAdapter(timeout: .seconds(2)) { simulator, adapter in
            simulator.faults.activate(.timeout, on: .paths(["/api/v1/chp"]))
            do {
                _ = try await adapter.read(endpoint: "charge_points")
                Issue.record("expected a timeout")
            } catch {
                guard case .timeout? = error as? SourceError else { throw error }
            }
            #expect(simulator.requests.count(path: "/api/v1/chp") == 3, "three tries")
            simulator.faults.clear()
            #expect(try await adapter.read(endpoint: "charge_points")?.arrayValue?.count == 3)
        }
    }

    // MARK: Commands

    @Test("start_charging sends RemoteStartTransaction with the configured tag; stop_charging the connector's transaction id")
    func startAndStop() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            let connector: JSONValue = ["charge_point_id": "CP001", "connector_id": 1]
            let status1 = try await adapter.perform(action: "start_charging", value: .null, childKey: connector)
            #expect(status1 == 200)
            let start = try #require(simulator.requests.requests(path: "/api/v1/csc").last.flatMap { try? JSONValue(parsing: $0.bodyString) })
            #expect(start == ["charge_point_id": "CP001", "connector_id": 1, "feature_name": "RemoteStartTransaction", "payload": "TAG001"])
            simulator.tick(times: 2)
            let id = try #require(simulator.state.activeTransactions.first?.id)
            _ = try await adapter.refreshDocuments()
            let status2 = try await adapter.perform(action: "stop_charging", value: .null, childKey: connector)
            #expect(status2 == 200)
            let stop = try #require(simulator.requests.requests(path: "/api/v1/csc").last.flatMap { try? JSONValue(parsing: $0.bodyString) })
            #expect(stop["payload"] == .string(String(id)))
            #expect(stop["feature_name"] == "RemoteStopTransaction")
            #expect(simulator.state.transaction(id)?.isFinished == true)
            let connectors = try await adapter.read(endpoint: "connectors")
            #expect(Self.item(connectors, "CP001", 1)?["status"] == "Finishing", "commands make the next read fresh")
            let again = await failure { try await adapter.perform(action: "stop_charging", value: .null, childKey: connector) }
            #expect(again?.code == .invalidValue, "no transaction any more: no call")
            #expect(simulator.requests.count(path: "/api/v1/csc") == 2)
        }
    }

    @Test("account: the login's User object without its token, with no request of its own while the login holds")
    func account() async throws {
        try await withAdapter { simulator, adapter in
            let account = try #require(try await adapter.read(endpoint: "account"))
            #expect(account["username"] == "bridge@example.com")
            #expect(account["role"] == "user")
            #expect(account["token"] == nil, "the token is never delivered")
            let token = try #require(simulator.token(username: "bridge@example.com"))
            #expect(!account.jsonString.contains(token))
            _ = try await adapter.read(endpoint: "account")
            #expect(simulator.requests.count(path: "/api/v1/users/authenticate") == 1)
            #expect(simulator.requests.count() == 1)
        }
    }

    @Test("session_event: once in the first connectors document after a session started or stopped, never on the first document")
    func sessionEvents() async throws {
        try await withAdapter { simulator, adapter in
            let first = try await adapter.refreshDocuments().first { $0.endpoint == "connectors" }?.document
            #expect(first?.arrayValue?.contains { $0["session_event"] != nil } == false, "the first document has no previous state")
            let id = try simulator.plugIn(chargePointID: "CP001", connectorID: 2, idTag: "TAG001")
            let started = try await adapter.refreshDocuments().first { $0.endpoint == "connectors" }?.document
            #expect(Self.item(started, "CP001", 2)?["session_event"] == ["type": "started", "transaction_id": .number(Double(id))])
            #expect(Self.item(started, "CP001", 1)?["session_event"] == nil)
            let same = try await adapter.refreshDocuments().first { $0.endpoint == "connectors" }?.document
            #expect(Self.item(same, "CP001", 2)?["session_event"] == nil, "fired once")
            _ = try await adapter.perform(action: "stop_charging", value: .null, childKey: ["charge_point_id": "CP001", "connector_id": 2])
            let stopped = try await adapter.read(endpoint: "connectors")
            #expect(Self.item(stopped, "CP001", 2)?["session_event"] == ["type": "stopped", "transaction_id": .number(Double(id))])
        }
    }

    @Test("rejections are error results with the CSMS's reason: Rejected, status error, not connected, not supported, no answer")
    func rejections() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            let connector: JSONValue = ["charge_point_id": "CP001", "connector_id": 1]
            simulator.faults.enable(.rejectCommands, times: 1)
            let rejected = await failure { try await adapter.perform(action: "start_charging", value: .null, childKey: connector) }
            #expect(rejected?.code == .callFailed)
            #expect(rejected?.message.contains("Rejected") == true)
            simulator.faults.enable(.commandErrors, times: 1)
            let failed = await failure { try await adapter.perform(action: "reset_soft", value: .null, childKey: "CP001") }
            #expect(failed?.code == .callFailed)
            #expect(failed?.message.contains("internal error") == true)
            let offline = await failure { try await adapter.perform(action: "reset", value: "hard", childKey: "CP003") }
            #expect(offline?.code == .callFailed)
            #expect(offline?.message.contains("not connected") == true)
            let unlock = await failure { try await adapter.perform(action: "unlock_connector", value: .null, childKey: connector) }
            #expect(unlock?.code == .notSupported)
            #expect(unlock?.message.contains("not supported for ocpp1.6") == true)
            try simulator.setUnresponsive("CP002", true)
            let silent = await failure { try await adapter.perform(action: "reset_soft", value: .null, childKey: "CP002") }
            #expect(silent?.code == .timeout)
            #expect(silent?.message.contains("did not answer") == true)
            let busy = await failure {
                try await adapter.perform(action: "start_charging", value: .null, childKey: ["charge_point_id": "CP002", "connector_id": 1])
            }
            #expect(busy?.code == .timeout, "still unresponsive")
        }
    }

    @Test("unknown charge points and connectors, bad values and unknown actions fail without a call")
    func invalidTargets() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            let unknownPoint = await failure { try await adapter.perform(action: "reset_soft", value: .null, childKey: "CP999") }
            #expect(unknownPoint?.code == .unknownDevice)
            let unknownConnector = await failure {
                try await adapter.perform(action: "start_charging", value: .null, childKey: ["charge_point_id": "CP002", "connector_id": 2])
            }
            #expect(unknownConnector?.code == .unknownDevice)
            let noKey = await failure { try await adapter.perform(action: "reset_soft", value: .null, childKey: nil) }
            #expect(noKey?.code == .invalidValue)
            let badReset = await failure { try await adapter.perform(action: "reset", value: "medium", childKey: "CP001") }
            #expect(badReset?.code == .invalidValue)
            let unknownAction = await failure { try await adapter.perform(action: "fly", value: .null, childKey: "CP001") }
            #expect(unknownAction?.code == .notSupported)
            #expect(simulator.requests.count(method: "POST") == 1, "the login only")
        }
        try await withAdapter(without: ["remote_start_id_tag"]) { simulator, adapter in
            try Task.checkCancellation()
            let noTag = await failure {
                try await adapter.perform(action: "start_charging", value: .null, childKey: ["charge_point_id": "CP001", "connector_id": 1])
            }
            #expect(noTag?.code == .notSupported)
            #expect(simulator.requests.count(path: "/api/v1/csc") == 0)
        }
    }

    @Test("reset takes the charge point offline and back; enable/disable POST /point/{id}")
    func resetAndEnable() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            let status3 = try await adapter.perform(action: "reset", value: "soft", childKey: ["charge_point_id": "CP001"])
            #expect(status3 == 200)
            #expect(try await adapter.read(endpoint: "charge_points")?.arrayValue?.first?["is_online"] == false)
            simulator.tick()
            _ = try await adapter.refreshDocuments()
            #expect(try await adapter.read(endpoint: "charge_points")?.arrayValue?.first?["is_online"] == true)
            let status4 = try await adapter.perform(action: "set_enabled", value: "OFF", childKey: "CP002")
            #expect(status4 == 200)
            #expect(simulator.state.chargePoint("CP002")?.isEnabled == false)
            let status5 = try await adapter.perform(action: "enable", value: .null, childKey: "CP002")
            #expect(status5 == 200)
            #expect(simulator.state.chargePoint("CP002")?.isEnabled == true)
            let post = try #require(simulator.requests.requests(method: "POST", path: "/api/v1/point/CP002").first)
            #expect(try JSONValue(parsing: post.bodyString) == ["charge_point_id": "CP002", "is_enabled": false])
        }
    }

    @Test("mapping calls: /api/v1 is added, the /csc answer is checked, unknown charge points are refused without a call")
    func execute() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            let call = RenderedCall(
                method: "POST", path: "/csc",
                body: ["charge_point_id": "CP001", "connector_id": 2, "feature_name": "ChangeAvailability", "payload": "Inoperative"])
            let status6 = try await adapter.execute(call)
            #expect(status6 == 200)
            #expect(simulator.state.connector("CP001", 2)?.status == "Unavailable")
            simulator.faults.enable(.rejectCommands, times: 1)
            let rejected = await failure { try await adapter.execute(call) }
            #expect(rejected?.code == .callFailed)
            let unknown = await failure {
                try await adapter.execute(RenderedCall(method: "POST", path: "/csc", body: ["charge_point_id": "NOPE", "feature_name": "Reset", "payload": "Soft"]))
            }
            #expect(unknown?.code == .unknownDevice)
            #expect(simulator.requests.count(path: "/api/v1/csc") == 2)
        }
    }

    // MARK: Stream

    @Test("the WebSocket: a refresh right after connecting, and one after each charge point event")
    func stream() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            #expect(adapter.hasStream && adapter.streamSilence == nil)
            let stream = try #require(adapter.stream())
            var iterator = stream.makeAsyncIterator()
            var first: [String] = []
            while first.count < 3, let document = try await iterator.next() { first.append(document.endpoint) }
            #expect(first == ["charge_points", "connectors", "transactions"])
            try simulator.setOnline("CP003", true)
            var online = false
            while !online, let document = try await iterator.next() {
                if document.endpoint == "charge_points" { online = document.document.arrayValue?[2]["is_online"] == true }
            }
            #expect(online)
            let socket = try #require(simulator.requests.requests(path: "/ws").first)
            #expect(socket.headers["authorization"] == "Bearer ***", "the upgrade carries the bearer header too")
        }
    }

    @Test("a dropped socket ends the stream; a stale token on the socket logs in again and ends it with an auth error; the next socket works")
    func streamEnds() async throws {
        try await withAdapter { simulator, adapter in
            try Task.checkCancellation()
            let stream = try #require(adapter.stream())
            var iterator = stream.makeAsyncIterator()
            _ = try await iterator.next()
            simulator.faults.activate(.dropStreams)
            do {
                while try await iterator.next() != nil {}
            } catch {
                #expect(error is SourceError)
            }
            #expect(try await adapter.refreshDocuments().count == 3, "polling works while the socket is down")
            simulator.faults.clear()

            try simulator.rotateToken(username: "bridge@example.com")
            let stale = try #require(adapter.stream())
            await #expect(throws: SourceError.unauthorized) {
                for try await _ in stale {}
            }
            #expect(simulator.requests.count(path: "/api/v1/users/authenticate") == 2, "the socket's auth error made the adapter log in again")
            let renewed = try #require(adapter.stream())
            var next = renewed.makeAsyncIterator()
            #expect(try await next.next()?.endpoint == "charge_points", "the next socket uses the new token")
        }
    }

    @Test("no log line, even at trace level, contains the password or a token")
    func noSecretsInLogs() async throws {
        let recorder = LogRecorder()
        let logger = Logger(label: "ocpp-secrets") { _ in recorder }
        let tokens = try await withAdapter(logger: logger) { simulator, adapter in
            var seen: [String] = []
            _ = try await adapter.read(endpoint: "charge_points")
            seen += [simulator.token(username: "bridge@example.com")].compactMap { $0 }
            let stream = try #require(adapter.stream())
            var iterator = stream.makeAsyncIterator()
            _ = try await iterator.next()
            try simulator.rotateToken(username: "bridge@example.com")
            seen += [simulator.token(username: "bridge@example.com")].compactMap { $0 }
            _ = try await adapter.refreshDocuments()
            seen += [simulator.token(username: "bridge@example.com")].compactMap { $0 }
            _ = try? await adapter.perform(action: "start_charging", value: .null, childKey: ["charge_point_id": "CP003", "connector_id": 1])
            simulator.faults.activate(.unauthorized)
            _ = try? await adapter.read(endpoint: "transactions")
            return seen
        }
        #expect(Set(tokens).count == 3, "the first token, the rotated one, the one of the re-login")
        #expect(!recorder.lines.isEmpty, "trace logging was on")
        for secret in tokens + [Self.password] {
            #expect(!recorder.lines.contains { $0.contains(secret) }, "a log line contains a secret")
        }
    }

    @Test("statistics count the reads and the commands")
    func statistics() async throws {
        try await withAdapter { _, adapter in
            try Task.checkCancellation()
            _ = try await adapter.read(endpoint: "charge_points")
            _ = try await adapter.perform(action: "reset_soft", value: .null, childKey: "CP001")
            let statistics = await adapter.statistics()
            #expect(statistics.requests >= 3)
        }
    }
}
