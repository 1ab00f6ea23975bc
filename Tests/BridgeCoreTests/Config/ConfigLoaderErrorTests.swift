import Foundation
import Testing

@testable import BridgeCore

@Suite("ConfigLoader errors")
struct ConfigLoaderErrorTests {
    private func errors(_ yaml: String, environment: [String: String] = [:]) -> [String] {
        ConfigTestSupport.errors(yaml, environment: environment)
    }

    @Test("An unknown key points at the key and suggests the close one")
    func unknownKey() {
        let yaml = """
            mqtt:
              url: mqtt://127.0.0.1
              username: bridge
              pasword: secret
            """
        #expect(errors(yaml) == ["test.yaml:4:3: mqtt.pasword: unknown key 'pasword' (did you mean 'password'?)"])
    }

    @Test("An unknown key with nothing close lists the known keys")
    func unknownKeyWithoutSuggestion() {
        #expect(
            errors("mqtt: { url: 'mqtt://b' }\nlog: { colour: red }") == [
                "test.yaml:2:8: log.colour: unknown key 'colour' (known: level, format)"
            ]
        )
    }

    @Test("A URL with another scheme is rejected")
    func badURLScheme() {
        #expect(
            errors("mqtt:\n  url: http://broker:1883\n") == [
                "test.yaml:2:8: mqtt.url: unsupported scheme 'http' (use mqtt:// or mqtts://)"
            ]
        )
    }

    @Test("A bad duration names the value and a bare number asks for a unit")
    func badDuration() {
        let yaml = """
            mqtt:
              url: mqtt://b
              keepalive: abc
              publish_timeout: 10
            """
        #expect(
            errors(yaml) == [
                "test.yaml:3:14: mqtt.keepalive: expected a duration like 10s, 5m or 1h30m, got 'abc'",
                "test.yaml:4:20: mqtt.publish_timeout: expected a duration with a unit, got '10' (write 10s)",
            ]
        )
    }

    @Test("A missing password file is named by its path")
    func missingPasswordFile() {
        let yaml = """
            mqtt:
              url: mqtt://b
              username: bridge
              password_file: /nonexistent/api2mqtt/secret
            """
        #expect(
            errors(yaml) == [
                "test.yaml:4:18: mqtt.password_file: cannot read secret file: '/nonexistent/api2mqtt/secret' does not exist"
            ]
        )
    }

    @Test("An undefined environment variable is named")
    func undefinedVariable() {
        let yaml = """
            mqtt:
              url: mqtt://${BROKER_HOST}:1883
            """
        #expect(
            errors(yaml) == [
                "test.yaml:2:8: mqtt.url: environment variable 'BROKER_HOST' is not set (write ${BROKER_HOST:-default} to give a default)"
            ]
        )
    }

    @Test("A repeated source id is reported at the repeat")
    func duplicateSourceID() {
        let yaml = """
            mqtt: { url: 'mqtt://b' }
            sources:
              - id: han
                type: cozify_han
                url: http://192.168.1.50
              - id: han
                type: tinybms
                url: http://192.168.1.60
            """
        #expect(errors(yaml) == ["test.yaml:6:9: sources[1].id: duplicate source id 'han' (first used at line 3)"])
    }

    @Test("An unknown source type lists the known ones")
    func unknownSourceType() {
        let yaml = """
            mqtt: { url: 'mqtt://b' }
            sources:
              - id: x
                type: zigbee
            """
        #expect(
            errors(yaml) == [
                "test.yaml:4:11: sources[0].type: unknown source type 'zigbee' (known: cozify_han, flowerhub, ocpp_csms, fritz_network, tinybms)"
            ]
        )
    }

    @Test("A key of another source type is unknown for this one")
    func unknownTypeSpecificKey() {
        let yaml = """
            mqtt: { url: 'mqtt://b' }
            sources:
              - id: battery
                type: flowerhub
                username: me
                password: pw
                stream: sse
            """
        #expect(
            errors(yaml).first?.hasPrefix(
                "test.yaml:7:5: sources[0].stream: unknown key 'stream' for source type 'flowerhub' (known: id, type,"
            ) == true
        )
    }

    @Test("A password given inline and as a file is reported at the second")
    func passwordAndPasswordFile() {
        let yaml = """
            mqtt:
              url: mqtt://b
              username: bridge
              password: inline
              password_file: /run/secrets/mqtt
            """
        #expect(errors(yaml) == ["test.yaml:5:3: mqtt.password_file: give either 'password' or 'password_file', not both"])
    }

    @Test("A missing required key points at the mapping that lacks it")
    func missingRequiredKey() {
        #expect(errors("mqtt:\n  client_id: x\n") == ["test.yaml:2:3: mqtt: missing required key 'url'"])
        #expect(errors("log: { level: info }\n") == ["test.yaml:1:1: missing required key 'mqtt'"])
    }

    @Test("Every problem is reported at once, in file order")
    func severalErrorsInFileOrder() {
        let yaml = """
            log:
              level: loud
            mqtt:
              url: mqtt://b
              keepalive: 1s
              offline_queue_limit: lots
            sources:
              - id: Bad Id
                type: cozify_han
                url: ftp://x
                poll_interval: 0s
              - id: router
                type: fritz_network
                url: http://fritz.box
                username: admin
            http:
              listen: localhost
            """
        #expect(
            errors(yaml) == [
                "test.yaml:2:10: log.level: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'",
                "test.yaml:5:14: mqtt.keepalive: must be between 5s and 65535s, got 1s",
                "test.yaml:6:24: mqtt.offline_queue_limit: expected a whole number, got 'lots'",
                "test.yaml:8:9: sources[0].id: must be 1 to 64 characters of a-z, 0-9, '_' and '-', got 'Bad Id'",
                "test.yaml:10:10: sources[0].url: unsupported scheme 'ftp' (use http:// or https://)",
                "test.yaml:11:20: sources[0].poll_interval: must be between 1s and 1d, got 0s",
                "test.yaml:12:5: sources[1]: missing key 'password/password_file', needed with 'username'",
                "test.yaml:17:11: http.listen: expected host:port with a port from 1 to 65535, like 127.0.0.1:9180 or [::1]:9180, got 'localhost'",
            ]
        )
    }

    @Test("A YAML syntax error carries its line and column")
    func syntaxError() {
        let lines = errors("mqtt:\n  url: mqtt://b\n   bad: [\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("test.yaml:3:") == true)
        #expect(lines.first?.contains("YAML syntax error") == true)
    }

    @Test("An empty document and a top level that is not a mapping are rejected")
    func emptyOrNotMapping() {
        #expect(errors("") == ["test.yaml:1:1: the configuration is empty; it needs at least mqtt.url"])
        #expect(errors("# only a comment\n") == ["test.yaml:1:1: the configuration is empty; it needs at least mqtt.url"])
        #expect(errors("- a\n- b\n") == ["test.yaml:1:1: expected a mapping of keys, got a list"])
    }

    @Test("A file that does not exist is reported without a position")
    func missingFile() {
        #expect(throws: ConfigErrors.self) { try ConfigLoader.load(file: "/nonexistent/api2mqtt.yaml", environment: [:]) }
        do {
            _ = try ConfigLoader.load(file: "/nonexistent/api2mqtt.yaml", environment: [:])
        } catch {
            #expect(error.description == "/nonexistent/api2mqtt.yaml: cannot read the configuration: '/nonexistent/api2mqtt.yaml' does not exist")
        }
    }

    @Test("An mqtt section without a value still asks for its url")
    func nullSection() {
        #expect(errors("log: { level: info }\nmqtt:\n") == ["test.yaml:2:1: mqtt: missing required key 'url'"])
    }

    @Test("A key written twice in one mapping is a syntax error")
    func duplicateYAMLKey() {
        #expect(errors("mqtt:\n  url: mqtt://a\n  url: mqtt://b\n") == ["test.yaml:2:3: duplicate key 'url' in one mapping"])
    }

    @Test("ConfigErrors sorts into file order and prints one error per line")
    func errorsDescription() {
        let errors = ConfigErrors([
            ConfigError(file: "f.yaml", line: 9, column: 3, keyPath: "log.level", message: "late"),
            ConfigError(file: "f.yaml", line: 2, column: 5, keyPath: "mqtt.url", message: "early"),
            ConfigError(file: "f.yaml", line: 2, column: 1, keyPath: "", message: "first"),
        ])
        #expect(errors.description == "f.yaml:2:1: first\nf.yaml:2:5: mqtt.url: early\nf.yaml:9:3: log.level: late")
    }
}
