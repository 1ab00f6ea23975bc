import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import NIOSSL
import SourceKit
import Testing

@Suite("TLS verification")
struct TLSTests {
    /// Serves `/ok` over HTTPS with a certificate from the private test CA.
    static func run<Value: Sendable>(_ body: (String) async throws -> Value) async throws -> Value {
        let router = Router()
        router.get("/ok") { _, _ -> Response in textResponse(#"{"ok":true}"#) }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(TestCertificates.serverPEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(TestCertificates.serverKeyPEM.utf8), format: .pem))
        )
        let server = try HTTPServerBuilder.tls(.http1(), tlsConfiguration: tls)
        return try await TestServer.run(
            makeApp: { configuration, onRunning in
                Application(router: router, server: server, configuration: configuration, onServerRunning: onRunning, logger: TestServer.logger)
            },
            { base in try await body(base.replacing("http://", with: "https://")) }
        )
    }

    static func client(_ base: String, _ pool: HTTPClientPool, tls: SourceTLS) throws -> SourceHTTPClient {
        SourceHTTPClient(
            configuration: .init(baseURL: try SourceURL(base), timeout: .seconds(5), tls: tls, retry: .never),
            pool: pool,
            clock: TestClock(),
            logger: quietLogger
        )
    }

    @Test("a private certificate is rejected by default")
    func verifiedByDefault() async throws {
        try await Self.run { base in
            try await withPool { pool in
                let error = await #expect(throws: SourceError.self) {
                    try await Self.client(base, pool, tls: .verified).get("/ok")
                }
                guard case .connection(let reason) = error else {
                    Issue.record("expected a connection error, got \(String(describing: error))")
                    return
                }
                #expect(reason.hasPrefix("TLS"))
            }
        }
    }

    @Test("the source's CA file, or insecure_tls, makes it acceptable")
    func caFileOrInsecure() async throws {
        let caFile = FileManager.default.temporaryDirectory.appendingPathComponent("sourcekit-test-ca-\(UUID().uuidString).pem")
        try Data(TestCertificates.caPEM.utf8).write(to: caFile)
        defer { try? FileManager.default.removeItem(at: caFile) }
        try await Self.run { base in
            try await withPool { pool in
                for tls in [SourceTLS(caFile: caFile.path), SourceTLS(insecure: true)] {
                    let response = try await Self.client(base, pool, tls: tls).get("/ok")
                    #expect(response.text == #"{"ok":true}"#)
                }
                #expect(pool.clientCount == 2)
            }
        }
    }
}
