import Foundation

/// A throw-away PKI made with the `openssl` command for TLS tests: a CA, a server certificate
/// for `localhost` / 127.0.0.1 and a client certificate, all in one temporary directory.
public struct TLSFixture: Sendable {
    public let directory: URL
    public var caFile: String { path("ca.crt") }
    public var serverCertFile: String { path("server.crt") }
    public var serverKeyFile: String { path("server.key") }
    public var clientCertFile: String { path("client.crt") }
    public var clientKeyFile: String { path("client.key") }

    /// Generates a CA named `name` and certificates signed by it; the server certificate is
    /// valid for `serverNames` (subjectAltName entries).
    public static func make(
        name: String = "api2mqtt test CA", serverNames: String = "DNS:localhost,IP:127.0.0.1"
    ) throws -> TLSFixture {
        let fixture = TLSFixture(directory: try TemporaryDirectory.make(prefix: "tls"))
        try fixture.generate(caName: name, serverNames: serverNames)
        return fixture
    }

    /// Deletes the fixture's files (at the end of the test that made it).
    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ file: String) -> String { directory.appendingPathComponent(file).path }

    private func openssl(_ arguments: [String]) throws {
        try Subprocess.run("/usr/bin/openssl", arguments)
    }

    private func generate(caName: String, serverNames: String) throws {
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(caName)",
            "-keyout", path("ca.key"), "-out", caFile,
        ])
        try "subjectAltName=\(serverNames)\n".write(
            toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", serverKeyFile, "-out",
            path("server.csr"),
        ])
        try openssl([
            "x509", "-req", "-in", path("server.csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", path("server.ext"), "-out", serverCertFile,
        ])
        try openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=bridge-client", "-keyout", clientKeyFile, "-out",
            path("client.csr"),
        ])
        try openssl([
            "x509", "-req", "-in", path("client.csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-CAcreateserial",
            "-days", "2", "-out", clientCertFile,
        ])
        // mosquitto may run as another user when started as root; keep the files readable.
        for file in ["ca.crt", "server.crt", "server.key", "client.crt", "client.key"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path(file))
        }
    }
}
