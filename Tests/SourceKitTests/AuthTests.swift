import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SourceKit
import Testing

@Suite("Auth strategies")
struct AuthTests {
    /// A server that answers `/who` with the credential headers it received.
    static func echoRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/who") { request, _ -> Response in
            let auth = request.headers[.authorization] ?? "-"
            let key = request.headers[.apiKeyHeader] ?? "-"
            return textResponse("\(auth)|\(key)", contentType: "text/plain")
        }
        return router
    }

    @Test(
        "fixed strategies add their header",
        arguments: [
            ("basic", "Basic YWRtaW46czNjcmV0|-"),
            ("bearer", "Bearer tok-123|-"),
            ("apikey", "-|ha_a1b2c3"),
            ("none", "-|-"),
        ]
    )
    func fixed(kind: String, expected: String) async throws {
        let auth: any AuthStrategy =
            switch kind {
            case "basic": BasicAuth(username: "admin", password: Credential("s3cret"))
            case "bearer": BearerTokenAuth(token: Credential("tok-123"))
            case "apikey": APIKeyAuth(key: Credential("ha_a1b2c3"))
            default: NoAuth()
            }
        try await TestServer.run(Self.echoRouter()) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: auth)
                #expect(try await client.get("/who").text == expected)
            }
        }
    }

    @Test("a rejected fixed credential is reported as unauthorized without retrying")
    func fixedRejected() async throws {
        let router = Router()
        let hits = Recorder<Int>()
        router.get("/x") { _, _ -> Response in
            hits.append(1)
            return textResponse(#"{"status_code":2001,"status_message":"Not authorized: bad token"}"#, status: .unauthorized)
        }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: BearerTokenAuth(token: Credential("nope")))
                await #expect(throws: SourceError.unauthorized) { try await client.get("/x") }
                #expect(hits.count == 1)
            }
        }
    }

    /// A CSMS-like server: `/login` issues `tok-<n>`; `/data` accepts only the newest token.
    final class TokenServer: Sendable {
        let logins = Recorder<String>()
        let seen = Recorder<String>()
        let expiresIn: Int?
        let rejectAll: Bool

        init(expiresIn: Int? = nil, rejectAll: Bool = false) {
            self.expiresIn = expiresIn
            self.rejectAll = rejectAll
        }

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post("/login") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 4096)
                self.logins.append(String(buffer: body))
                let token = "tok-\(self.logins.count)"
                let expiry = self.expiresIn.map { #","expires_in":\#($0)"# } ?? ""
                return textResponse(#"{"data":{"token":"\#(token)"}\#(expiry)}"#)
            }
            router.get("/data") { request, _ -> Response in
                let auth = request.headers[.authorization] ?? "-"
                self.seen.append(auth)
                guard !self.rejectAll, auth == "Bearer tok-\(self.logins.count)" else {
                    return textResponse(#"{"status_code":2001,"status_message":"Not authorized"}"#, status: .unauthorized)
                }
                return textResponse("{}")
            }
            return router
        }
    }

    static func loginAuth(encoding: LoginForm.Encoding = .json, expiresIn: Bool = false) -> LoginBearerAuth {
        LoginBearerAuth(
            login: LoginForm(
                path: "/login",
                encoding: encoding,
                fields: ["username": Credential("bridge@example.com"), "password": Credential("pa ss&word")]
            ),
            options: .init(tokenKeyPath: "data.token", expiresInKeyPath: expiresIn ? "expires_in" : nil)
        )
    }

    @Test("login-for-bearer logs in once, with JSON or form credentials", arguments: [LoginForm.Encoding.json, .form])
    func loginOnce(encoding: LoginForm.Encoding) async throws {
        let server = TokenServer()
        let auth = Self.loginAuth(encoding: encoding)
        try await TestServer.run(server.router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: auth)
                _ = try await client.get("/data")
                _ = try await client.get("/data")
                #expect(server.logins.count == 1)
                #expect(server.seen.all == ["Bearer tok-1", "Bearer tok-1"])
                let expected =
                    encoding == .json
                    ? #"{"password":"pa ss&word","username":"bridge@example.com"}"#
                    : "username=bridge%40example.com&password=pa+ss%26word"
                #expect(server.logins.all == [expected])
                #expect(try await client.establishSession()?.text.contains("tok-1") == true)
            }
        }
    }

    @Test("login-for-bearer renews before the announced expiry")
    func renewsBeforeExpiry() async throws {
        let server = TokenServer(expiresIn: 300)
        let clock = TestClock()
        try await TestServer.run(server.router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: Self.loginAuth(expiresIn: true), clock: clock)
                _ = try await client.get("/data")
                clock.advance(by: .seconds(230))
                _ = try await client.get("/data")
                #expect(server.logins.count == 1)
                clock.advance(by: .seconds(15))  // 245 s: inside the 60 s renewal window
                _ = try await client.get("/data")
                #expect(server.logins.count == 2)
                #expect(server.seen.all == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"])
            }
        }
    }

    @Test("login-for-bearer reads the JWT exp claim")
    func jwtExpiry() async throws {
        // {"alg":"none"} . {"exp": epoch + 120} . sig
        let payload = Data(#"{"exp":\#(Int(TestClock.epoch.timeIntervalSince1970) + 120)}"#.utf8).base64EncodedString()
            .replacing("=", with: "")
        let jwt = "eyJhbGciOiJub25lIn0.\(payload).c2ln"
        let router = Router()
        let logins = Recorder<Int>()
        router.post("/auth/login") { _, _ -> Response in
            logins.append(1)
            return textResponse(#"{"access_token":"\#(jwt)","token_type":"bearer"}"#)
        }
        router.get("/api/v1/devices") { _, _ -> Response in textResponse("{}") }
        let clock = TestClock()
        let auth = LoginBearerAuth(
            login: LoginForm(path: "/auth/login", encoding: .form, fields: ["username": Credential("admin"), "password": Credential("pw")]),
            options: .init(tokenKeyPath: "access_token")
        )
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: auth, clock: clock)
                _ = try await client.get("/api/v1/devices")
                clock.advance(by: .seconds(59))
                _ = try await client.get("/api/v1/devices")
                #expect(logins.count == 1)
                clock.advance(by: .seconds(2))  // 61 s: half of 120 s lifetime reached
                _ = try await client.get("/api/v1/devices")
                #expect(logins.count == 2)
            }
        }
    }

    @Test("a 401 makes login-for-bearer log in again and resend once")
    func reloginOn401() async throws {
        let server = TokenServer()
        let auth = Self.loginAuth()
        try await TestServer.run(server.router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: auth)
                _ = try await client.get("/data")
                // Someone else logs in with the same account and replaces the token.
                _ = try await client.send(.post, "/login", body: .json(bytes: Array("{}".utf8)))
                _ = try await client.get("/data")
                #expect(server.logins.count == 3)
                #expect(server.seen.all == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-3"])
            }
        }
    }

    @Test("a second 401 after re-login is reported as unauthorized")
    func persistent401() async throws {
        let server = TokenServer(rejectAll: true)
        try await TestServer.run(server.router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: Self.loginAuth())
                await #expect(throws: SourceError.unauthorized) { try await client.get("/data") }
                #expect(server.logins.count == 2)
                #expect(server.seen.count == 2)
            }
        }
    }

    @Test("concurrent requests share one login")
    func concurrentLogin() async throws {
        let server = TokenServer()
        try await TestServer.run(server.router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: Self.loginAuth())
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 { group.addTask { _ = try await client.get("/data") } }
                    try await group.waitForAll()
                }
                #expect(server.logins.count == 1)
            }
        }
    }

    @Test("a rejected login is unauthorized")
    func loginRejected() async throws {
        let router = Router()
        router.post("/login") { _, _ -> Response in textResponse(#"{"status_code":2001,"status_message":"bad"}"#, status: .unauthorized) }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: Self.loginAuth())
                await #expect(throws: SourceError.unauthorized) { try await client.get("/data") }
            }
        }
    }

    @Test("a login answer without the token is a malformed response")
    func loginWithoutToken() async throws {
        let router = Router()
        router.post("/login") { _, _ -> Response in textResponse(#"{"data":{}}"#) }
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let client = try makeClient(base, pool: pool, auth: Self.loginAuth())
                await #expect(throws: SourceError.malformedResponse("login answer has no token at 'data.token'")) {
                    try await client.get("/data")
                }
            }
        }
    }
}
