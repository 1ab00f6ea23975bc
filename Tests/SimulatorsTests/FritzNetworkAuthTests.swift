import BridgeCore
import Foundation
import Simulators
import Testing

/// JWT login, API keys and the per-identity rate limit, over real sockets.
@Suite("Fritz!Box network simulator: auth and rate limit")
struct FritzNetworkAuthTests {
    @Test("no credentials, a wrong key or a wrong token: 401 as an RFC 9457 problem")
    func unauthorized() async throws {
        try await withFritz { _, http in
            for headers in [[:], ["X-API-Key": "ha_wrong000000000000000000000000000"], ["Authorization": "Bearer eyJnope"]] {
                let answer = try await http.get("/api/v1/fritzbox/devices", headers: headers)
                #expect(answer.status == 401)
                #expect(answer.headers["www-authenticate"] == "Bearer")
                #expect(answer.json?.keys == problemKeys)
                #expect(answer.json?["detail"]?.string == "Missing or invalid authentication (API Key or Bearer token required)")
            }
        }
    }

    @Test("form login gives a 30-minute JWT with an exp claim; it works until simulated time passes its expiry")
    func jwtLifetime() async throws {
        try await withFritz { simulator, http in
            let bearer = try await http.fritzLogin()
            let token = try #require(bearer["Authorization"]?.dropFirst(7))
            let parts = token.split(separator: ".")
            #expect(parts.count == 3)
            #expect(token.hasPrefix("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."))
            var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while payload.count % 4 != 0 { payload += "=" }
            let claims = JSON.decode(Array(Data(base64Encoded: payload) ?? Data()))
            let exp = try #require(claims?["exp"]?.integer)
            #expect(exp - Int64(simulator.now.timeIntervalSince1970) == 1_800)

            #expect(try await http.get("/api/v1/fritzbox/wan", headers: bearer).status == 200)
            simulator.advance(by: .seconds(29 * 60))
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: bearer).status == 200)
            simulator.advance(by: .seconds(61))
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: bearer).status == 401)
            let again = try await http.fritzLogin()
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: again).status == 200)
            #expect(simulator.state.logins == 2)
            simulator.expireTokens()
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: again).status == 401)
        }
    }

    @Test("login: wrong password 401, missing fields 422; the password never shows in the request log's headers")
    func loginFailures() async throws {
        try await withFritz { _, http in
            let form = ["Content-Type": "application/x-www-form-urlencoded"]
            let wrong = try await http.send("POST", "/auth/login", body: "username=admin&password=nope", headers: form)
            #expect(wrong.status == 401)
            #expect(wrong.json?["detail"]?.string == "Incorrect username or password")
            let missing = try await http.send("POST", "/auth/login", body: "username=admin", headers: form)
            #expect(missing.status == 422)
            let encoded = try await http.send("POST", "/auth/login", body: "username=admin&password=fritz%2Dsecret", headers: form)
            #expect(encoded.status == 200, "form fields are percent-decoded")
        }
    }

    @Test("API keys: created with a JWT (shown once), listed, used, deleted (204, then 404); an API key cannot manage keys")
    func apiKeys() async throws {
        try await withFritz { simulator, http in
            let bearer = try await http.fritzLogin()
            let created = try await http.post("/auth/api-keys", body: #"{"name": "bridge"}"#, headers: bearer)
            #expect(created.status == 201)
            #expect(created.json?.keys == ["id", "name", "api_key", "created_at"])
            let key = try #require(created.json?["api_key"]?.string)
            #expect(key.hasPrefix("ha_") && key.count == 35)
            let id = try #require(created.json?["id"]?.integer)

            #expect(try await http.get("/api/v1/fritzbox/devices", headers: ["X-API-Key": key]).status == 200)
            let list = try await http.get("/auth/api-keys", headers: bearer)
            #expect(list.json?["count"]?.integer == 2)
            let listed = try #require(list.json?["keys"]?.array?.first { $0["id"]?.integer == id })
            #expect(listed.keys == ["id", "name", "created_at", "last_used_at", "is_active"])
            #expect(listed["api_key"] == nil, "the key is never shown again")
            #expect(listed["last_used_at"]?.string != nil)
            let preset = try #require(list.json?["keys"]?.array?.first { $0["id"]?.integer != id })
            #expect(preset["last_used_at"]?.isNull == true)

            #expect(try await http.get("/auth/api-keys", headers: ["X-API-Key": key]).status == 401)
            #expect(try await http.post("/auth/api-keys", body: #"{"name": "x"}"#, headers: ["X-API-Key": key]).status == 401)
            #expect(try await http.post("/auth/api-keys", body: #"{}"#, headers: bearer).status == 422)

            #expect(try await http.send("DELETE", "/auth/api-keys/\(id)", headers: bearer).status == 204)
            let gone = try await http.send("DELETE", "/auth/api-keys/\(id)", headers: bearer)
            #expect(gone.status == 404)
            #expect(gone.json?["detail"]?.string == "API key \(id) not found")
            #expect(try await http.get("/api/v1/fritzbox/devices", headers: ["X-API-Key": key]).status == 401)
            #expect(simulator.state.activeAPIKeys == 1)
        }
    }

    @Test("10 requests a minute per identity: the 11th gets 429 with Retry-After; the window slides with simulated time")
    func rateLimit() async throws {
        try await withFritz(.test(rateLimit: 10)) { simulator, http in
            for _ in 0..<10 { #expect(try await http.get("/api/v1/fritzbox/wan", headers: fritzKey).status == 200) }
            let limited = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            #expect(limited.status == 429)
            #expect(limited.json?.keys == problemKeys)
            #expect(limited.json?["title"]?.string == "Too Many Requests")
            let retryAfter = try #require(limited.headers["retry-after"].flatMap { Int($0) })
            #expect((1...60).contains(retryAfter))

            // Another identity (a JWT, and the unauthenticated login by address) has its own window.
            let bearer = try await http.fritzLogin()
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: bearer).status == 200)

            simulator.advance(by: .seconds(30))
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: fritzKey).status == 429)
            simulator.advance(by: .seconds(31))
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: fritzKey).status == 200)
            #expect(simulator.maxRequests(where: { $0.identity.hasPrefix("key:") && $0.status == 200 }) == 10)
            #expect(simulator.apiRequests.contains { $0.identity == "key:ha_demo0" && $0.status == 429 })
            #expect(!simulator.apiRequests.contains { $0.identity.contains(FritzNetworkSimulator.demoAPIKey) }, "identities hold prefixes only")
        }
    }

    @Test("forceRateLimit answers 429 to the next request whatever the window holds")
    func forcedRateLimit() async throws {
        try await withFritz { simulator, http in
            simulator.forceRateLimit(times: 2)
            let first = try await http.get("/api/v1/fritzbox/wan", headers: fritzKey)
            #expect(first.status == 429)
            #expect(try await http.get("/health").status == 429)
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: fritzKey).status == 200)
        }
    }
}
