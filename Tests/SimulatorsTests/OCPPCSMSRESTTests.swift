import BridgeCore
import Simulators
import Testing

/// The REST paths of the OCPP CSMS simulator over real sockets: auth, accounts, charge points,
/// transactions, reports.
@Suite("OCPP CSMS simulator: REST")
struct OCPPCSMSRESTTests {
    static let chargePointKeys: Set<String> = [
        "charge_point_id", "is_enabled", "title", "description", "model", "serial_number", "vendor", "firmware_version", "status",
        "error_code", "info", "event_time", "is_online", "status_time", "address", "access_type", "access_level", "location",
        "connectors",
    ]
    static let connectorKeys: Set<String> = [
        "connector_id", "connector_id_name", "charge_point_id", "type", "status", "status_time", "state", "info", "vendor_id",
        "error_code", "power", "current_transaction_id",
    ]

    @Test("a password login answers the User object with a token; each password login replaces the account's token")
    func passwordLogin() async throws {
        try await withCSMS(login: false) { simulator, client in
            try Task.checkCancellation()
            let first = try await client.login()
            #expect(first.status == 200)
            let user = try #require(first.json)
            #expect(user["username"]?.string == CSMSAccount.bridge.username)
            #expect(user["role"]?.string == "user")
            let firstToken = try #require(user["token"]?.string)
            #expect(!firstToken.isEmpty && simulator.token(username: CSMSAccount.bridge.username) == firstToken)
            #expect(try await client.get("/api/v1/chp").status == 200)

            try await client.login()
            let secondToken = try #require(client.token)
            #expect(secondToken != firstToken)
            client.use(token: firstToken)
            let stale = try await client.get("/api/v1/chp")
            #expect(stale.status == 401)
            #expect(stale.json?["status_code"]?.integer == 2001)
            #expect(stale.json?["status_message"]?.string?.hasPrefix("Not authorized") == true)
            client.use(token: secondToken)
            #expect(try await client.get("/api/v1/chp").status == 200)
        }
    }

    @Test("a token login answers the same account and token; wrong passwords and unknown tokens get 401")
    func tokenLoginAndFailures() async throws {
        try await withCSMS { _, client in
            try Task.checkCancellation()
            let token = try #require(client.token)
            let byToken = try await client.login(nil, password: token)
            #expect(byToken.status == 200)
            #expect(byToken.json?["token"]?.string == token)
            #expect(byToken.json?["username"]?.string == CSMSAccount.bridge.username)

            #expect(try await client.login(CSMSAccount.bridge.username, password: "wrong").status == 401)
            #expect(try await client.login(nil, password: "not-a-token").status == 401)
            let missing = try await client.http.post("/api/v1/users/authenticate", body: "{}")
            #expect(missing.status == 401)
            #expect(try await client.http.get("/api/v1/chp").status == 401, "no Authorization header")
        }
    }

    @Test("/chp lists every charge point with its connectors in the document's shape; one is offline")
    func chargePoints() async throws {
        try await withCSMS { _, client in
            try Task.checkCancellation()
            let result = try await client.get("/api/v1/chp")
            #expect(result.status == 200)
            let points = try #require(result.json?.array)
            #expect(points.compactMap { $0["charge_point_id"]?.string } == ["CP001", "CP002", "CP003"])
            for point in points {
                #expect(point.keys == Self.chargePointKeys)
                for connector in point["connectors"]?.array ?? [] {
                    #expect(connector.keys == Self.connectorKeys)
                    #expect(connector["current_transaction_id"]?.integer == 0, "documented: 0 when idle")
                }
            }
            #expect(points.map { $0["is_online"]?.bool } == [true, true, false])
            #expect(points.map { $0["connectors"]?.array?.count } == [2, 1, 2])
            #expect(points[0]["connectors"]?[0]?["power"]?.integer == 22_000, "rated power")
            #expect(points[1]["vendor"]?.string == "ABB")
        }
    }

    @Test("/chp/{search} matches id or title; no match is an empty list")
    func search() async throws {
        try await withCSMS { _, client in
            try Task.checkCancellation()
            #expect(try await client.get("/api/v1/chp/CP002").json?.array?.map { $0["charge_point_id"] } == [.string("CP002")])
            #expect(try await client.get("/api/v1/chp/visitor").json?.array?.map { $0["charge_point_id"] } == [.string("CP003")])
            #expect(try await client.get("/api/v1/chp/nothing").json == .array([]))
        }
    }

    @Test("/point/{id} answers one charge point; unknown is 404; POST updates is_enabled and title")
    func point() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let point = try await client.get("/api/v1/point/CP001")
            #expect(point.status == 200)
            #expect(point.json?["charge_point_id"]?.string == "CP001")
            let unknown = try await client.get("/api/v1/point/NOPE")
            #expect(unknown.status == 404)
            #expect(unknown.json?["status_message"]?.string != nil)

            let updated = try await client.post("/api/v1/point/CP001", ["charge_point_id": "CP001", "is_enabled": false, "title": "Renamed"])
            #expect(updated.status == 200)
            #expect(updated.json?["is_enabled"]?.bool == false)
            #expect(updated.json?["title"]?.string == "Renamed")
            #expect(simulator.state.chargePoint("CP001")?.isEnabled == false)
            #expect(try await client.get("/api/v1/chp").json?[0]?["is_enabled"]?.bool == false)
            #expect(try await client.post("/api/v1/point/NOPE", ["is_enabled": true]).status == 404)
            #expect(try await client.post("/api/v1/point/CP001", "not an object").status == 400)
        }
    }

    @Test("/transactions/active lists only the caller's own id tags, with live power and energy")
    func activeTransactions() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            #expect(try await client.get("/api/v1/transactions/active").json == .array([]))
            let mine = try simulator.plugIn(chargePointID: "CP001", connectorID: 1, idTag: CSMSAccount.bridge.tag, stateOfCharge: 30)
            try simulator.plugIn(chargePointID: "CP001", connectorID: 2, idTag: CSMSAccount.driver.tag, stateOfCharge: 30)
            simulator.tick(times: 2)
            let active = try #require(try await client.get("/api/v1/transactions/active").json?.array)
            #expect(active.count == 1)
            let session = try #require(active.first)
            #expect(session["transaction_id"]?.integer == Int64(mine))
            #expect(session["status"]?.string == "Charging")
            #expect(session["is_charging"]?.bool == true)
            #expect(session["id_tag"]?.string == CSMSAccount.bridge.tag)
            let power = try #require(session["power_rate"]?.integer)
            #expect(power > 0 && power <= 22_000)
            #expect(session["consumed"]?.integer ?? 0 > 0)
            #expect(session["duration"]?.integer == 120, "two ticks of 60 s")
            #expect(session["connector"]?["power"]?.integer == 22_000, "the connector's power stays its rating")
            let expectedPrice = Double(session["consumed"]?.integer ?? 0) / 1000 * 35
            #expect(abs(Double(session["price"]?.integer ?? -10) - expectedPrice) <= 1, "35 cents per kWh")
            let chp = try #require(try await client.get("/api/v1/chp").json)
            #expect(chp[0]?["connectors"]?[0]?["current_transaction_id"]?.integer == Int64(mine))
            #expect(chp[0]?["connectors"]?[0]?["status"]?.string == "Charging")
        }
    }

    @Test("/transactions/list, /list/{period}, /recent and /info/{id} show the account's sessions")
    func transactionHistory() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let id = try simulator.plugIn(chargePointID: "CP002", connectorID: 1, idTag: CSMSAccount.bridge.tag, stateOfCharge: 50)
            simulator.tick()
            let list = try #require(try await client.get("/api/v1/transactions/list").json?.array)
            #expect(list.map { $0["transaction_id"]?.integer } == [Int64(id)])
            #expect(list.first?["is_finished"]?.bool == false)
            #expect(try await client.get("/api/v1/transactions/list/day").json?.array?.count == 1)
            #expect(try await client.get("/api/v1/transactions/list/decade").status == 400)
            #expect(try await client.get("/api/v1/transactions/recent").json?.array?.map { $0["charge_point_id"] } == [.string("CP002")])
            let info = try #require(try await client.get("/api/v1/transactions/info/\(id)").json)
            #expect(info["protocol_version"]?.string == "ocpp1.6")
            #expect(info["username"]?.string == CSMSAccount.bridge.username)
            #expect(try await client.get("/api/v1/transactions/info/999999").status == 404)
        }
    }

    @Test("accounts: register, users/info for oneself, 403 for others; user tags need admin; users/list is filtered")
    func accounts() async throws {
        try await withCSMS { _, client in
            try Task.checkCancellation()
            let info = try #require(try await client.get("/api/v1/users/info/\(CSMSAccount.bridge.username)").json)
            #expect(info["user_tags"]?.array?.map { $0["id_tag"] } == [.string("TAG001")])
            #expect(info["payment_plans"]?[0]?["price_per_kwh"]?.integer == 35)
            #expect(try await client.get("/api/v1/users/info/\(CSMSAccount.driver.username)").status == 403)
            #expect(try await client.get("/api/v1/user-tags/list").status == 403)
            #expect(try await client.get("/api/v1/users/list").json?.array?.count == 1)

            let registered = try await client.http.post(
                "/api/v1/users/register", body: #"{"username": "new@example.com", "password": "pw-123456", "name": "New"}"#)
            #expect(registered.status == 200)
            #expect(registered.json?["token"]?.string?.isEmpty == false)
            #expect(try await client.http.post("/api/v1/users/register", body: #"{"username": "new@example.com", "password": "x"}"#).status == 500)
            #expect(try await client.http.post("/api/v1/users/register", body: #"{"username": "other@example.com"}"#).status == 400)
            #expect(try await client.login("new@example.com", password: "pw-123456").status == 200)
            #expect(try await client.get("/api/v1/users/info/new@example.com").json?["name"]?.string == "New")

            try await client.login(CSMSAccount.admin.username, password: CSMSAccount.admin.password)
            #expect(try await client.get("/api/v1/user-tags/list").json?.array?.count == 3)
            #expect(try await client.get("/api/v1/user-tags/info/TAG002").json?["username"]?.string == CSMSAccount.driver.username)
            #expect(try await client.get("/api/v1/user-tags/info/NOPE").status == 404)
            #expect(try await client.get("/api/v1/users/list").json?.array?.count == 4, "three accounts and the registered one")
        }
    }

    @Test("locations, config, reports, log and payment methods; unimplemented paths say so with 501")
    func neighbours() async throws {
        try await withCSMS { simulator, client in
            try Task.checkCancellation()
            let locations = try #require(try await client.get("/api/v1/locations").json?.array)
            #expect(locations.first?["charge_points"]?.array?.count == 3)
            #expect(try await client.http.get("/api/v1/config/app").status == 200, "public")
            #expect(try await client.http.get("/api/v1/config/nope").status == 400)
            try simulator.plugIn(chargePointID: "CP001", connectorID: 1, idTag: CSMSAccount.bridge.tag)
            simulator.tick()
            #expect(try await client.get("/api/v1/report/charger").status == 400, "from and to are required")
            let report = try #require(try await client.get("/api/v1/report/charger?from=2000-01-01&to=2100-01-01").json?.array)
            #expect(report.map { $0["charge_point_id"] } == [.string("CP001")])
            #expect(try await client.get("/api/v1/report/month?from=2000-01-01&to=2100-01-01").json?.array?.count == 1)
            #expect(try await client.get("/api/v1/log/ocpp").json?.array?.isEmpty == false)
            #expect(try await client.get("/api/v1/payment/methods").json?.array?.count == 1)
            let create = try await client.post("/api/v1/users/create", ["username": "x"])
            #expect(create.status == 501)
            #expect(create.json?["status_message"]?.string?.contains("not implemented") == true)
        }
    }
}
