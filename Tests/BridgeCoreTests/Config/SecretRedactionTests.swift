import Foundation
import Testing

@testable import BridgeCore

/// Secrets reach the configuration three ways (inline, `*_file`, `${ENV}`); none of them may
/// show up in a printed configuration, its redacted JSON, or any error.
@Suite("Secrets never leak from the configuration")
struct SecretRedactionTests {
    private static let inline = "inline-S3cret-1"
    private static let fromFile = "file-S3cret-2"
    private static let fromEnvironment = "env-S3cret-3"
    private static let apiKey = "apikey-S3cret-4"
    private static let all = [inline, fromFile, fromEnvironment, apiKey]

    private func expectNoSecret(in text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in Self.all {
            #expect(!text.contains(secret), "\(secret) leaked", sourceLocation: sourceLocation)
        }
    }

    @Test("A loaded configuration prints, dumps and encodes secrets as ***")
    func loadedConfiguration() throws {
        try ConfigScratchDirectory.with { directory in
            let secretFile = try directory.write("flowerhub-password", Self.fromFile + "\n")
            let yaml = """
                mqtt: { url: 'mqtt://b', username: bridge, password: \(Self.inline) }
                sources:
                  - { id: battery, type: flowerhub, username: me, password_file: \(secretFile) }
                  - { id: garage, type: ocpp_csms, url: 'http://csms', token: '${OCPP_TOKEN}' }
                  - { id: router, type: fritz_network, url: 'http://fritz.box', api_key: \(Self.apiKey) }
                """
            let configuration = try #require(
                ConfigTestSupport.load(yaml, environment: ["OCPP_TOKEN": Self.fromEnvironment])
            )
            #expect(configuration.mqtt.password?.revealed == Self.inline)
            #expect(configuration.sources[0].secret("password")?.revealed == Self.fromFile, "one trailing newline trimmed")
            #expect(configuration.sources[1].secret("token")?.revealed == Self.fromEnvironment)

            var dumped = ""
            dump(configuration, to: &dumped)
            let json = configuration.redactedJSON
            let encoded = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
            for text in [String(describing: configuration), String(reflecting: configuration), dumped, json, encoded] {
                expectNoSecret(in: text)
            }
            #expect(json.contains(#""password":"***""#))
            #expect(json.contains(#""token":"***""#))
            #expect(json.contains(#""api_key":"***""#))
        }
    }

    @Test("Errors about secret keys never repeat the secret or the file's content")
    func errorsStaySecretFree() throws {
        try ConfigScratchDirectory.with { directory in
            let secretFile = try directory.write("token", Self.fromFile)
            let yaml = """
                mqtt:
                  url: mqtt://user:\(Self.inline)@broker
                  password: \(Self.inline)
                  password_file: \(secretFile)
                sources:
                  - id: garage
                    type: ocpp_csms
                    url: http://user:\(Self.apiKey)@csms
                    token: ${OCPP_TOKEN}
                    token_file: \(secretFile)
                  - { id: router, type: fritz_network, url: 'http://fritz.box', api_key: [\(Self.apiKey)] }
                  - { id: bms, type: tinybms, url: 'http://bms', username: u, password: '${OCPP_TOKEN}', timeout: 0s }
                """
            do throws(ConfigErrors) {
                _ = try ConfigLoader.load(
                    yaml: yaml,
                    file: "secrets.yaml",
                    environment: ["OCPP_TOKEN": Self.fromEnvironment]
                )
                Issue.record("expected errors")
            } catch {
                #expect(error.errors.count >= 6)
                expectNoSecret(in: String(describing: error))
                expectNoSecret(in: String(reflecting: error))
            }
        }
    }

    @Test("A password file has exactly one trailing newline removed")
    func trimsOneNewline() throws {
        try ConfigScratchDirectory.with { directory in
            for (content, expected) in [("pw\n", "pw"), ("pw\r\n", "pw"), ("pw\n\n", "pw\n"), ("pw", "pw"), (" pw ", " pw ")] {
                let file = try directory.write("password", content)
                let yaml = "mqtt: { url: 'mqtt://b', username: u, password_file: '\(file)' }"
                #expect(ConfigTestSupport.load(yaml)?.mqtt.password?.revealed == expected)
            }
        }
    }

    @Test("An empty password file is an error naming the file")
    func emptyPasswordFile() throws {
        try ConfigScratchDirectory.with { directory in
            let file = try directory.write("password", "\n")
            let yaml = "mqtt:\n  url: mqtt://b\n  username: u\n  password_file: \(file)\n"
            #expect(
                ConfigTestSupport.errors(yaml) == ["test.yaml:4:18: mqtt.password_file: secret file '\(file)' is empty"]
            )
        }
    }

    @Test("A relative password file is found next to the configuration file")
    func relativeSecretFile() throws {
        try ConfigScratchDirectory.with { directory in
            try directory.write("mqtt-password", "relative\n")
            let file = try directory.write(
                "api2mqtt.yaml",
                "mqtt: { url: 'mqtt://b', username: u, password_file: mqtt-password }\n"
            )
            #expect(try ConfigLoader.load(file: file, environment: [:]).mqtt.password?.revealed == "relative")
        }
    }
}
