import Foundation
import Testing

@testable import BridgeCore

/// One rule per case: a small document and the single error line it must produce.
@Suite("ConfigLoader validation rules")
struct ConfigLoaderValidationTests {
    /// The `mqtt:` line every source case starts with.
    private static let broker = "mqtt: { url: 'mqtt://b' }\nsources:\n"

    @Test(
        "MQTT settings are range- and shape-checked",
        arguments: [
            ("mqtt: { url: 'mqtts://b:70000' }", "test.yaml:1:14: mqtt.url: port must be between 1 and 65535, got 70000"),
            ("mqtt: { url: 'mqtt://b/topic' }", "test.yaml:1:14: mqtt.url: must not have a path, query or fragment; only mqtt://host:port"),
            ("mqtt: { url: 'mqtt://' }", "test.yaml:1:14: mqtt.url: expected a host, as in mqtt://127.0.0.1"),
            ("mqtt: { url: 'broker' }", "test.yaml:1:14: mqtt.url: expected a URL like mqtt://127.0.0.1:1883 or mqtts://broker.example:8883"),
            ("mqtt: { url: 'mqtt://b', protocol: 4 }", "test.yaml:1:36: mqtt.protocol: expected 5 or 3.1.1, got '4'"),
            ("mqtt: { url: 'mqtt://b', keepalive: 1500ms }", "test.yaml:1:37: mqtt.keepalive: must be between 5s and 65535s, got 1500ms"),
            ("mqtt: { url: 'mqtt://b', keepalive: 5500ms }", "test.yaml:1:37: mqtt.keepalive: must be whole seconds, got 5500ms"),
            ("mqtt: { url: 'mqtt://b', client_id: '' }", "test.yaml:1:37: mqtt.client_id: must not be empty"),
            (
                "mqtt: { url: 'mqtt://b', client_id: \(String(repeating: "x", count: 65)) }",
                "test.yaml:1:37: mqtt.client_id: must be 1 to 64 characters without control characters"
            ),
            (
                "mqtt: { url: 'mqtt://b', base_topic: 'a/+/b' }",
                "test.yaml:1:38: mqtt.base_topic: must not contain the wildcards '+' or '#', got 'a/+/b'"
            ),
            ("mqtt: { url: 'mqtt://b', base_topic: '/a' }", "test.yaml:1:38: mqtt.base_topic: must not start or end with '/', got '/a'"),
            (
                "mqtt: { url: 'mqtt://b', base_topic: '$SYS' }",
                "test.yaml:1:38: mqtt.base_topic: must not start with '$' (reserved for the broker), got '$SYS'"
            ),
            ("mqtt: { url: 'mqtt://b', reconnect_max_delay: 2h }", "test.yaml:1:47: mqtt.reconnect_max_delay: must be between 1s and 1h, got 2h"),
            ("mqtt: { url: 'mqtt://b', offline_queue_limit: -1 }", "test.yaml:1:47: mqtt.offline_queue_limit: must be between 0 and 1000000, got -1"),
            ("mqtt: { url: 'mqtt://b', password: p }", "test.yaml:1:7: mqtt: a password needs a username; add 'username'"),
            ("mqtt: { url: 'mqtt://b', tls: { insecure: true } }", "test.yaml:1:31: mqtt.tls: TLS settings need an mqtts:// URL"),
            (
                "mqtt: { url: 'mqtts://b', tls: { ca_file: /nonexistent/ca.pem } }",
                "test.yaml:1:43: mqtt.tls.ca_file: '/nonexistent/ca.pem' does not exist"
            ),
            ("mqtt: { url: 'mqtts://b', tls: { insecure: yes } }", "test.yaml:1:44: mqtt.tls.insecure: expected true or false, got 'yes'"),
            ("mqtt: [a]", "test.yaml:1:7: mqtt: expected a mapping of keys, got a list"),
        ]
    )
    func mqttRules(yaml: String, expected: String) {
        #expect(ConfigTestSupport.errors(yaml) == [expected])
    }

    @Test("A client certificate needs its key")
    func certificateNeedsKey() throws {
        try ConfigScratchDirectory.with { directory in
            let cert = try directory.write("client.pem", "CERT")
            let yaml = "mqtt: { url: 'mqtts://b', tls: { cert_file: '\(cert)' } }"
            #expect(
                ConfigTestSupport.errors(yaml) == [
                    "test.yaml:1:32: mqtt.tls: 'cert_file' and 'key_file' go together; give both or neither"
                ]
            )
        }
    }

    @Test(
        "Other sections are checked",
        arguments: [
            (
                "homeassistant: { discovery_prefix: 'ha/#' }",
                "test.yaml:2:36: homeassistant.discovery_prefix: must not contain the wildcards '+' or '#', got 'ha/#'"
            ),
            ("homeassistant: { enabled: maybe }", "test.yaml:2:27: homeassistant.enabled: expected true or false, got 'maybe'"),
            (
                "http: { listen: '127.0.0.1:0' }",
                "test.yaml:2:17: http.listen: expected host:port with a port from 1 to 65535, like 127.0.0.1:9180 or [::1]:9180, got '127.0.0.1:0'"
            ),
            (
                "http: { listen: '::1:9180' }",
                "test.yaml:2:17: http.listen: expected host:port with a port from 1 to 65535, like 127.0.0.1:9180 or [::1]:9180, got '::1:9180'"
            ),
            ("log: { format: xml }", "test.yaml:2:16: log.format: expected one of text, json, got 'xml'"),
            (
                "publish: { output: xml }",
                "test.yaml:2:20: publish.output: expected one of json, attribute, attribute_and_json, got 'xml'"
            ),
            (
                "publish: { republish_interval: 1s }",
                "test.yaml:2:32: publish.republish_interval: must be between 10s and 1d, got 1s"
            ),
            ("mappings: { directory: /nonexistent/mappings }", "test.yaml:2:24: mappings.directory: '/nonexistent/mappings' does not exist"),
            ("sources: { id: x }", "test.yaml:2:10: sources: expected a list, got a mapping"),
            ("colour: red", "test.yaml:2:1: colour: unknown key 'colour' (known: mqtt, homeassistant, publish, http, log, mappings, sources)"),
        ]
    )
    func sectionRules(section: String, expected: String) {
        #expect(ConfigTestSupport.errors("mqtt: { url: 'mqtt://b' }\n" + section) == [expected])
    }

    @Test("The HTTP listen address accepts IPv4, names and bracketed IPv6")
    func listenForms() {
        for (text, host, port) in [("0.0.0.0:80", "0.0.0.0", 80), ("localhost:9180", "localhost", 9180), ("[::]:9180", "::", 9180)] {
            let http = ConfigTestSupport.load("mqtt: { url: 'mqtt://b' }\nhttp: { listen: '\(text)' }")?.http
            #expect(http?.listen == ListenAddress(host: host, port: port))
            #expect(http?.listen.description == text)
        }
    }

    @Test(
        "Source entries are checked against the common keys and their type's table",
        arguments: [
            ("  - { type: tinybms, url: 'http://h' }", "test.yaml:3:5: sources[0]: missing required key 'id'"),
            ("  - { id: a, url: 'http://h' }", "test.yaml:3:5: sources[0]: missing required key 'type'"),
            ("  - { id: a, type: tinybms }", "test.yaml:3:5: sources[0]: missing required key 'url'"),
            (
                "  - { id: a, type: tinybms, url: 'http://' }",
                "test.yaml:3:34: sources[0].url: expected an http:// or https:// URL with a host, like http://192.168.1.50"
            ),
            (
                "  - { id: a, type: tinybms, url: 'http://h', stream: sse }",
                "test.yaml:3:54: sources[0].stream: expected one of websocket, poll, got 'sse'"
            ),
            (
                "  - { id: a, type: tinybms, url: 'http://h', poll_interval: 2d }",
                "test.yaml:3:61: sources[0].poll_interval: must be between 1s and 1d, got 2d"
            ),
            (
                "  - { id: a, type: tinybms, url: 'http://h', timeout: 10m }",
                "test.yaml:3:55: sources[0].timeout: must be between 100ms and 5m, got 10m"
            ),
            (
                "  - { id: a, type: tinybms, url: 'http://h', password: p }",
                "test.yaml:3:5: sources[0]: missing key 'username', needed with 'password'"
            ),
            (
                "  - { id: a, type: tinybms, url: 'http://h', mapping: /nonexistent/m.yaml }",
                "test.yaml:3:55: sources[0].mapping: '/nonexistent/m.yaml' does not exist"
            ),
            ("  - { id: a, type: flowerhub }", "test.yaml:3:5: sources[0]: missing credentials: give username and password/password_file"),
            (
                "  - { id: a, type: ocpp_csms, url: 'http://h', username: u, password: p, token: t }",
                "test.yaml:3:5: sources[0]: conflicting credentials: give username and password/password_file, or token/token_file, not both"
            ),
            (
                "  - { id: a, type: fritz_network, url: 'http://h' }",
                "test.yaml:3:5: sources[0]: missing credentials: give api_key/api_key_file, or username and password/password_file"
            ),
            (
                "  - { id: a, type: fritz_network, url: 'http://h', api_key: k, requests_per_minute: 601 }",
                "test.yaml:3:85: sources[0].requests_per_minute: must be between 1 and 600, got 601"
            ),
            (
                "  - { id: a, type: ocpp_csms, url: 'http://h', token: t, charge_points: cp1 }",
                "test.yaml:3:73: sources[0].charge_points: expected a list, got 'cp1'"
            ),
            (
                "  - { id: a, type: cozify_han, url: 'http://h', tokn: t }",
                "test.yaml:3:49: sources[0].tokn: unknown key 'tokn' for source type 'cozify_han' (did you mean 'token'?)"
            ),
            (
                "  - { id: \(String(repeating: "a", count: 65)), type: tinybms, url: 'http://h' }",
                "test.yaml:3:11: sources[0].id: must be 1 to 64 characters of a-z, 0-9, '_' and '-', got '\(String(repeating: "a", count: 65))'"
            ),
            ("  - han", "test.yaml:3:5: sources[0]: expected a mapping of keys, got 'han'"),
        ]
    )
    func sourceRules(entry: String, expected: String) {
        #expect(ConfigTestSupport.errors(Self.broker + entry) == [expected])
    }
}
