import BridgeCore
import Foundation
import Simulators
import Testing

/// Login, cookies, refresh and 401s of the FlowerHub simulator, over real sockets.
@Suite("FlowerHub simulator: auth")
struct FlowerHubAuthTests {
    @Test("login answers the user with assetOwnerId and sets HttpOnly, Secure Authentication and Refresh cookies")
    func login() async throws {
        try await withFlowerHub { simulator, client in
            let answer = try await client.login()
            #expect(answer.status == 200)
            let json = try #require(answer.json)
            #expect(json["user"]?["assetOwnerId"]?.integer == Int64(client.owner))
            #expect(json["user"]?["email"]?.string == client.account.username)
            #expect(json["user"]?.keys == ["id", "email", "role", "name", "distributorId", "installerId", "assetOwnerId"])
            #expect(json["user"]?["distributorId"] == .null)
            let expiry = try #require(json["refreshTokenExpirationDate"]?.string)
            #expect(expiry.hasPrefix("2026-03-21T10:00:00"), "seven days after the simulated now: \(expiry)")

            let cookies = answer.setCookies
            #expect(Set(cookies.keys) == ["Authentication", "Refresh"])
            for (name, cookie) in cookies {
                #expect(cookie.attributes.keys.contains("httponly"), "\(name)")
                #expect(cookie.attributes.keys.contains("secure"), "\(name)")
                #expect(cookie.attributes["path"] == "/", "\(name)")
                #expect(cookie.value.split(separator: ".").count == 3, "a JWT-shaped token: \(name)")
            }
            #expect(cookies["Authentication"]?.attributes["max-age"] == "900")
            #expect(simulator.state.logins == 1)
        }
    }

    @Test("secureCookies: false leaves Secure off")
    func insecureCookies() async throws {
        try await withFlowerHub(.test(secureCookies: false)) { _, client in
            let cookies = try await client.login().setCookies
            #expect(cookies.count == 2)
            #expect(cookies.values.allSatisfy { !$0.attributes.keys.contains("secure") })
        }
    }

    @Test("wrong credentials: 401 with a NestJS body; a body without fields: 400; neither sets a cookie")
    func refusedLogin() async throws {
        try await withFlowerHub { simulator, client in
            let wrong = try await client.login(password: "nope")
            #expect(wrong.status == 401)
            #expect(wrong.json?["statusCode"]?.integer == 401)
            #expect(wrong.json?["message"]?.string == "Wrong credentials provided")
            #expect(wrong.json?["error"]?.string == "Unauthorized")
            #expect(wrong.setCookies.isEmpty)

            let empty = try await client.send("POST", "/auth/login", body: "{}")
            #expect(empty.status == 400)
            #expect(empty.json?["error"]?.string == "Bad Request")
            #expect(empty.json?["message"]?.array?.count == 2)
            #expect(simulator.state.logins == 0)
            #expect(simulator.state.failedLogins == 2)
        }
    }

    @Test("every document path needs the Authentication cookie: 401 without it, 200 with it")
    func cookieRequired() async throws {
        try await withFlowerHub { simulator, client in
            let anonymous = try await client.get("/asset/\(client.asset)")
            #expect(anonymous.status == 401)
            #expect(anonymous.json == ["statusCode": 401, "message": "Unauthorized"])
            try await client.login()
            #expect(try await client.get("/asset/\(client.asset)").status == 200)
            client.setCookie("Authentication", "forged.token.value")
            #expect(try await client.get("/asset/\(client.asset)").status == 401)
            #expect(simulator.state.unauthorizedRequests == 2)
        }
    }

    @Test("an expired access cookie: 401; the refresh sets a new one (the refresh cookie stays) and the retry succeeds")
    func refreshAfterExpiry() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            let firstAccess = try #require(client.cookies["Authentication"])
            let refreshCookie = try #require(client.cookies["Refresh"])
            simulator.expireAccessCookies()
            #expect(try await client.get("/asset-owner/\(client.owner)/profile").status == 401)

            let refreshed = try await client.get("/auth/refresh-token")
            #expect(refreshed.status == 200)
            #expect(refreshed.json?["assetOwnerId"]?.integer == Int64(client.owner), "the documented top-level user")
            #expect(refreshed.json?["user"] == nil)
            #expect(Set(refreshed.setCookies.keys) == ["Authentication"])
            #expect(client.cookies["Authentication"] != firstAccess)
            #expect(client.cookies["Refresh"] == refreshCookie)
            #expect(try await client.get("/asset-owner/\(client.owner)/profile").status == 200)
            #expect(simulator.state.refreshes == 1)
            #expect(simulator.state.logins == 1)
        }
    }

    @Test("access cookies expire by simulated time too (15 minutes), refresh cookies after 7 days")
    func lifetimes() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            simulator.advance(by: .seconds(14 * 60))
            #expect(try await client.get("/asset/\(client.asset)").status == 200)
            simulator.advance(by: .seconds(60))
            #expect(try await client.get("/asset/\(client.asset)").status == 401)
            #expect(try await client.get("/auth/refresh-token").status == 200)
            #expect(try await client.get("/asset/\(client.asset)").status == 200)
            simulator.advance(by: .seconds(7 * 86_400))
            #expect(try await client.get("/auth/refresh-token").status == 401)
            #expect(simulator.state.failedRefreshes == 1)
        }
    }

    @Test("an expired refresh cookie: refresh answers 401 until a new login")
    func refreshExpired() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            simulator.expireSession()
            #expect(try await client.get("/asset/\(client.asset)").status == 401)
            let refused = try await client.get("/auth/refresh-token")
            #expect(refused.status == 401)
            #expect(refused.setCookies.isEmpty)
            client.setCookie("Refresh", nil)
            #expect(try await client.get("/auth/refresh-token").status == 401, "no cookie at all")
            try await client.login()
            #expect(try await client.get("/asset/\(client.asset)").status == 200)
            #expect(simulator.state.logins == 2)
            #expect(simulator.state.refreshes == 0)
            #expect(simulator.state.failedRefreshes == 2)
        }
    }

    @Test("another owner's or asset's documents: 403")
    func otherOwner() async throws {
        try await withFlowerHub { _, client in
            try await client.login()
            #expect(try await client.get("/asset-owner/\(client.owner + 1)").status == 403)
            #expect(try await client.get("/asset/\(client.asset + 1)").status == 403)
        }
    }
}
