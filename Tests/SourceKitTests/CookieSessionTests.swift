import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SourceKit
import Synchronization
import Testing

@Suite("Cookie session auth")
struct CookieSessionTests {
    /// A FlowerHub-like portal: login and refresh set `HttpOnly; Secure` cookies; the data
    /// endpoint accepts the newest access cookie only; every request must carry `Origin`.
    final class Portal: Sendable {
        let log = Recorder<String>()
        private let access = Mutex(0)
        private let refreshAllowed: Bool
        private let acceptAnything: Bool

        init(refreshAllowed: Bool = true, acceptAnything: Bool = true) {
            self.refreshAllowed = refreshAllowed
            self.acceptAnything = acceptAnything
        }

        /// Makes the current access cookie invalid (as if it expired on the server).
        func expireAccess() { access.withLock { $0 += 100 } }

        private func cookies(_ access: Int) -> HTTPFields {
            var fields = HTTPFields()
            fields.append(HTTPField(name: .setCookie, value: "Authentication=acc-\(access); Path=/; HttpOnly; Secure; SameSite=None"))
            fields.append(
                HTTPField(name: .setCookie, value: "Refresh=ref-\(access); Path=/auth; HttpOnly; Secure; Expires=Wed, 21 Oct 2099 07:28:00 GMT")
            )
            fields[.contentType] = "application/json"
            return fields
        }

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post("/auth/login") { request, _ -> Response in
                self.log.append("login origin=\(request.headers[.origin] ?? "-")")
                let value = self.access.withLock {
                    $0 += 1
                    return $0
                }
                return Response(
                    status: .ok,
                    headers: self.cookies(value),
                    body: .init(byteBuffer: ByteBuffer(string: #"{"user":{"assetOwnerId":42}}"#))
                )
            }
            router.get("/auth/refresh-token") { request, _ -> Response in
                let cookie = request.headers[.cookie] ?? "-"
                self.log.append("refresh cookie=\(cookie)")
                guard self.refreshAllowed, cookie.contains("Refresh=ref-") else {
                    return textResponse("{}", status: .unauthorized)
                }
                let value = self.access.withLock {
                    $0 += 1
                    return $0
                }
                return Response(status: .ok, headers: self.cookies(value), body: .init(byteBuffer: ByteBuffer(string: #"{"assetOwnerId":42}"#)))
            }
            router.get("/asset/1") { request, _ -> Response in
                let cookie = request.headers[.cookie] ?? "-"
                self.log.append("data cookie=\(cookie)")
                let current = self.access.withLock { $0 }
                guard self.acceptAnything, cookie.contains("Authentication=acc-\(current)") else {
                    return textResponse(#"{"message":"Unauthorized"}"#, status: .unauthorized)
                }
                return textResponse(#"{"id":1}"#)
            }
            return router
        }
    }

    static func auth() -> CookieSessionAuth {
        CookieSessionAuth(
            login: LoginForm(path: "/auth/login", fields: ["username": Credential("owner@example.com"), "password": Credential("flower-pw")]),
            refresh: .init(path: "/auth/refresh-token")
        )
    }

    static func client(_ base: String, _ pool: HTTPClientPool, _ auth: CookieSessionAuth) throws -> SourceHTTPClient {
        try makeClient(base, pool: pool, auth: auth, headers: [(name: "Origin", value: "https://portal.flowerhub.se")])
    }

    @Test("logs in once and sends Secure cookies back over plain-http loopback")
    func login() async throws {
        let portal = Portal()
        let auth = Self.auth()
        try await TestServer.run(portal.router) { base in
            try await withPool { pool in
                let client = try Self.client(base, pool, auth)
                let session = try await client.establishSession()
                #expect(session?.text.contains("assetOwnerId") == true)
                _ = try await client.get("/asset/1")
                _ = try await client.get("/asset/1")
                #expect(
                    portal.log.all == [
                        "login origin=https://portal.flowerhub.se",
                        "data cookie=Authentication=acc-1",
                        "data cookie=Authentication=acc-1",
                    ]
                )
                #expect(auth.jar.count == 2)
            }
        }
    }

    @Test("a 401 refreshes the session and resends once")
    func refreshOn401() async throws {
        let portal = Portal()
        let auth = Self.auth()
        try await TestServer.run(portal.router) { base in
            try await withPool { pool in
                let client = try Self.client(base, pool, auth)
                _ = try await client.get("/asset/1")
                portal.expireAccess()
                #expect(try await client.get("/asset/1").text == #"{"id":1}"#)
                #expect(portal.log.all.filter { $0.hasPrefix("refresh") } == ["refresh cookie=Refresh=ref-1; Authentication=acc-1"])
                #expect(auth.counts.logins == 1)
                #expect(auth.counts.refreshes == 1)
            }
        }
    }

    @Test("a refused refresh falls back to a full login")
    func loginAfterRefusedRefresh() async throws {
        let portal = Portal(refreshAllowed: false)
        let auth = Self.auth()
        try await TestServer.run(portal.router) { base in
            try await withPool { pool in
                let client = try Self.client(base, pool, auth)
                _ = try await client.get("/asset/1")
                portal.expireAccess()
                _ = try await client.get("/asset/1")
                #expect(auth.counts.logins == 2)
                #expect(auth.counts.refreshes == 1)
            }
        }
    }

    @Test("refresh, then re-login, then unauthorized")
    func givesUp() async throws {
        let portal = Portal(acceptAnything: false)
        let auth = Self.auth()
        try await TestServer.run(portal.router) { base in
            try await withPool { pool in
                let client = try Self.client(base, pool, auth)
                await #expect(throws: SourceError.unauthorized) { try await client.get("/asset/1") }
                #expect(portal.log.all.filter { $0.hasPrefix("data") }.count == 3)
                #expect(auth.counts.refreshes == 1)
                #expect(auth.counts.logins == 2)
            }
        }
    }
}

@Suite("CookieJar")
struct CookieJarTests {
    let now = TestClock.epoch

    @Test("Secure cookies go over https and to loopback http only")
    func secure() {
        let jar = CookieJar()
        jar.store(setCookieHeaders: ["a=1; Secure; HttpOnly", "b=2"], host: "api.example.com", path: "/", now: now)
        #expect(jar.cookieHeader(host: "api.example.com", path: "/x", secure: true, now: now) == "a=1; b=2")
        #expect(jar.cookieHeader(host: "api.example.com", path: "/x", secure: false, now: now) == "b=2")
        jar.store(setCookieHeaders: ["c=3; Secure"], host: "127.0.0.1", path: "/", now: now)
        #expect(jar.cookieHeader(host: "127.0.0.1", path: "/", secure: false, now: now) == "c=3")
    }

    @Test("domain, path and expiry rules")
    func rules() {
        let jar = CookieJar()
        jar.store(
            setCookieHeaders: [
                "host=1", "wide=2; Domain=.example.com", "deep=3; Path=/auth", "old=4; Max-Age=10",
                "evil=5; Domain=other.com", "gone=6; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ],
            host: "api.example.com",
            path: "/login",
            now: now
        )
        #expect(jar.cookieHeader(host: "api.example.com", path: "/auth/refresh", secure: true, now: now) == "deep=3; host=1; wide=2; old=4")
        #expect(jar.cookieHeader(host: "www.example.com", path: "/", secure: true, now: now) == "wide=2")
        #expect(jar.cookieHeader(host: "api.example.com", path: "/authx", secure: true, now: now.addingTimeInterval(11)) == "host=1; wide=2")
        #expect(jar.count == 3)
        #expect(jar.description == "CookieJar(3 cookies)")
    }
}
