import BridgeCore
import NIOCore
import HTTPTypes
import Simulators
import Testing

/// The shared fault plan and the optional HTTP Basic auth with CSRF token, over real sockets.
@Suite("TinyBMS simulator: faults and auth")
struct TinyBMSFaultTests {
    @Test("httpError 500 and 429 on given paths; a failed POST changes nothing; deactivated, the paths answer again")
    func httpErrors() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.faults.activate(.httpError(500), on: .paths(["/api/status", "/api/alerts/config"]))
            #expect(try await http.get("/api/status").status == 500)
            #expect(try await http.post("/api/alerts/config", body: #"{"temperature_max_c":50}"#).status == 500)
            #expect(simulator.state.alertConfig.temperatureMaxC == 45)
            #expect(try await http.get("/api/can/status").status == 200)
            simulator.faults.clear()
            simulator.faults.activate(.httpError(429))
            #expect(try await http.get("/api/mqtt/status").status == 429)
            simulator.faults.clear()
            #expect(try await http.get("/api/status").status == 200)
        }
    }

    @Test("malformedJSON truncates HTTP bodies and WebSocket frames")
    func malformedJSON() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.tick()
            simulator.faults.activate(.malformedJSON)
            let broken = try await http.get("/api/status")
            #expect(broken.status == 200 && broken.text.hasPrefix("{") && broken.json == nil)
            let socket = try await openSocket(simulator, "/ws/telemetry")
            simulator.tick()
            let frames = try await socket.messages(atLeast: 2)
            #expect(frames.allSatisfy { $0.hasPrefix("{") && JSON.decode($0) == nil })
            simulator.faults.deactivate(.malformedJSON)
            #expect(try await http.get("/api/status").json != nil)
            try await socket.close()
        }
    }

    @Test("timeout: the request hangs until the fault is switched off, then it is answered")
    func timeout() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.faults.activate(.timeout, on: .paths(["/api/alerts/active"]))
            let pending = PendingRequest { try await http.get("/api/alerts/active") }
            try await eventually("the request to reach the simulator") { simulator.requests.count(path: "/api/alerts/active") == 1 }
            #expect(!pending.isFinished)
            simulator.faults.deactivate(.timeout)
            #expect(try await pending.result().status == 200)
        }
    }

    @Test("unauthorized: 401 whatever the request carries")
    func unauthorized() async throws {
        try await withTinyBMS { (simulator, http) async throws in
            simulator.faults.activate(.unauthorized)
            #expect(try await http.get("/api/status").status == 401)
        }
    }

    @Test("dropStreams closes the open sockets now and, while active, each new one after its snapshot")
    func dropStreams() async throws {
        try await withTinyBMS { (simulator, _) async throws in
            let socket = try await openSocket(simulator, "/ws/alerts")
            simulator.faults.activate(.dropStreams)
            #expect(try await socket.end().isClosedByServer)
            let next = TinyBMSSocket.open(port: try port(of: simulator), path: "/ws/alerts")
            #expect(try await next.end().isClosedByServer)
            #expect(next.documents.map { $0["type"]?.string } == ["alerts"])
        }
    }

    @Test("down: stopAbruptly refuses connections; start() brings the gateway back on the same port")
    func down() async throws {
        try await withTinyBMS(keepAlive: false) { (simulator, http) async throws in
            let port = try port(of: simulator)
            await simulator.stopAbruptly()
            let refused = TestHTTPClient(port: port, keepAlive: false, connectTimeout: .milliseconds(200))
            await #expect(throws: (any Error).self) { _ = try await refused.get("/api/status") }
            try await refused.shutdown()
            #expect(try await simulator.start() == port)
            #expect(try await http.get("/api/status").status == 200)
        }
    }

    @Test("Basic auth: 401 without credentials (REST and WebSocket upgrade); with them GETs pass and the log hides the secret")
    func basicAuth() async throws {
        let credentials = TinyBMSSimulator.Credentials(username: "admin", password: "s3cret-pass")
        try await withTinyBMS(.test(credentials: credentials)) { (simulator, http) async throws in
            let denied = try await http.get("/api/status")
            #expect(denied.status == 401)
            #expect(denied.headers["www-authenticate"]?.hasPrefix("Basic") == true)
            #expect(try await http.get("/api/status", headers: ["Authorization": basicAuthorization("admin", "wrong")]).status == 401)
            let authorization = basicAuthorization("admin", "s3cret-pass")
            #expect(try await http.get("/api/status", headers: ["Authorization": authorization]).status == 200)
            #expect(simulator.requests.all.allSatisfy { $0.headers["authorization"].map { $0 == "Basic ***" } ?? true })

            let refused = TinyBMSSocket.open(port: try port(of: simulator), path: "/ws/telemetry")
            #expect(try await refused.end().error != nil, "upgrade refused")
            var fields = HTTPFields()
            fields[.authorization] = authorization
            let accepted = try await openSocket(simulator, "/ws/telemetry", headers: fields)
            try await accepted.close()
        }
    }

    @Test("CSRF: with auth on, a POST needs the token from /api/security/csrf; an expired token is 403 and changes nothing")
    func csrf() async throws {
        let credentials = TinyBMSSimulator.Credentials(username: "admin", password: "s3cret-pass")
        try await withTinyBMS(.test(credentials: credentials)) { (simulator, http) async throws in
            let authorization = ["Authorization": basicAuthorization("admin", "s3cret-pass")]
            let body = #"{"temperature_max_c":50}"#
            let missing = try await http.post("/api/alerts/config", body: body, headers: authorization)
            #expect(missing.status == 403 && missing.json?["code"]?.string == "CSRF_INVALID")
            let token = try #require(try await http.get("/api/security/csrf", headers: authorization).json?["token"]?.string)
            var headers = authorization
            headers["X-CSRF-Token"] = token
            #expect(try await http.post("/api/alerts/config", body: body, headers: headers).status == 200)
            #expect(simulator.state.alertConfig.temperatureMaxC == 50)

            simulator.expireCSRFToken()
            let expired = try await http.post("/api/alerts/config", body: #"{"temperature_max_c":55}"#, headers: headers)
            #expect(expired.status == 403)
            #expect(simulator.state.alertConfig.temperatureMaxC == 50)
            let fresh = try #require(try await http.get("/api/security/csrf", headers: authorization).json?["token"]?.string)
            #expect(fresh != token)
        }
    }
}
