import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SourceKit
import Testing

@Suite("Secrets stay secret")
struct SecretsTests {
    static let password = "hunter2-Pa55word"
    static let token = "tok-SECRET-abcdef"
    static let apiKey = "ha_SECRETKEY0123456789"

    @Test("a credential renders as *** everywhere")
    func rendering() {
        let credential = Credential(Self.password)
        var dumped = ""
        dump(credential, to: &dumped)
        for text in ["\(credential)", String(describing: credential), String(reflecting: credential), dumped, "\([credential])"] {
            #expect(!text.contains(Self.password))
        }
        #expect("\(credential)" == "***")
    }

    @Test("credentials never appear in error descriptions or captured log lines")
    func neverLeaked() async throws {
        let router = Router()
        // A careless server that echoes credentials back in its error bodies.
        router.post("/login") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 4096)
            return textResponse("login failed for body \(String(buffer: body))", status: .internalServerError, contentType: "text/plain")
        }
        router.get("/echo") { request, _ -> Response in
            let headers = "\(request.headers[.authorization] ?? "") \(request.headers[.apiKeyHeader] ?? "")"
            return textResponse(#"{"detail":"rejected \#(headers)"}"#, status: .badRequest)
        }
        router.get("/problem") { request, _ -> Response in
            textResponse("upstream said \(request.headers[.authorization] ?? "")", status: .badGateway, contentType: "text/plain")
        }
        let (logger, lines) = CapturingLogHandler.logger()
        var errors: [SourceError] = []
        try await TestServer.run(router) { base in
            try await withPool { pool in
                let login = LoginBearerAuth(
                    login: LoginForm(path: "/login", fields: ["username": Credential("bridge"), "password": Credential(Self.password)])
                )
                let strategies: [any AuthStrategy] = [
                    login,
                    BearerTokenAuth(token: Credential(Self.token)),
                    APIKeyAuth(key: Credential(Self.apiKey)),
                    BasicAuth(username: "admin", password: Credential(Self.password)),
                ]
                for auth in strategies {
                    let client = try makeClient(base, pool: pool, auth: auth, retry: .never, logger: logger)
                    for path in ["/echo", "/problem"] {
                        do throws(SourceError) {
                            _ = try await client.get(path)
                        } catch {
                            errors.append(error)
                        }
                    }
                    let body = try SourceRequestBody.json(["password": Self.password])
                    do throws(SourceError) {
                        _ = try await client.send(.post, "/echo", body: body)
                    } catch {
                        errors.append(error)
                    }
                    if let last = client.statistics.lastError { lines.append(last) }
                }
            }
        }
        #expect(errors.count == 12)
        let basic = Data("admin:\(Self.password)".utf8).base64EncodedString()
        let rendered = errors.map { "\($0) | \(String(reflecting: $0))" } + lines.all
        #expect(lines.all.isEmpty == false)
        for text in rendered {
            for secret in [Self.password, Self.token, Self.apiKey, basic] {
                #expect(!text.contains(secret), "leaked in: \(text)")
            }
        }
    }
}
