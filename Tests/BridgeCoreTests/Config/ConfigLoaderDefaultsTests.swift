import Foundation
import Logging
import Testing

@testable import BridgeCore

@Suite("ConfigLoader defaults and full configurations")
struct ConfigLoaderDefaultsTests {
    @Test("A minimal file gets every default")
    func minimalDefaults() throws {
        let configuration = try #require(ConfigTestSupport.load("mqtt:\n  url: mqtt://127.0.0.1\n"))
        let mqtt = configuration.mqtt
        #expect(mqtt.url == BrokerURL(scheme: .mqtt, host: "127.0.0.1", port: 1883))
        #expect(mqtt.clientID == "api2mqtt")
        #expect(mqtt.username == nil)
        #expect(mqtt.password == nil)
        #expect(mqtt.protocolVersion == .v5)
        #expect(mqtt.keepalive == .seconds(60))
        #expect(mqtt.tls == nil)
        #expect(mqtt.baseTopic == "api2mqtt")
        #expect(mqtt.reconnectMaxDelay == .seconds(60))
        #expect(mqtt.offlineQueueLimit == 1000)
        #expect(mqtt.publishTimeout == .seconds(10))
        #expect(configuration.homeassistant == HomeAssistantSettings())
        #expect(configuration.homeassistant.enabled)
        #expect(configuration.homeassistant.discoveryPrefix == "homeassistant")
        #expect(configuration.homeassistant.statusTopic == "homeassistant/status")
        #expect(configuration.http.enabled)
        #expect(configuration.http.listen == ListenAddress(host: "127.0.0.1", port: 9180))
        #expect(configuration.log.level == .info)
        #expect(configuration.log.format == .text)
        #expect(configuration.mappings.directory == nil)
        #expect(configuration.sources.isEmpty)
        #expect(configuration.file == ConfigTestSupport.file)
    }

    @Test("mqtts:// defaults to port 8883 and keeps IPv6 hosts without brackets")
    func brokerURLForms() throws {
        let tls = try #require(ConfigTestSupport.load("mqtt: { url: 'mqtts://broker.example' }"))
        #expect(tls.mqtt.url.port == 8883)
        #expect(tls.mqtt.url.scheme == .mqtts)
        let v6 = try #require(ConfigTestSupport.load("mqtt: { url: 'mqtt://[::1]:1884' }"))
        #expect(v6.mqtt.url.host == "::1")
        #expect(v6.mqtt.url.description == "mqtt://[::1]:1884")
    }

    @Test("Every section and every source type reads back what the file says")
    func fullConfiguration() throws {
        try ConfigScratchDirectory.with { directory in
            let ca = try directory.write("ca.pem", "CA")
            let cert = try directory.write("client.pem", "CERT")
            let key = try directory.write("client.key", "KEY")
            try directory.write("mqtt-password", "from-file\n")
            let overlay = (directory.path as NSString).appendingPathComponent("mappings")
            try FileManager.default.createDirectory(atPath: overlay, withIntermediateDirectories: true)
            let yaml = """
                mqtt:
                  url: mqtts://broker.example:8884
                  client_id: bridge-1
                  username: bridge
                  password_file: mqtt-password
                  protocol: 3.1.1
                  keepalive: 30s
                  tls: { ca_file: \(ca), cert_file: \(cert), key_file: \(key), insecure: true }
                  base_topic: home/bridge
                  reconnect_max_delay: 2m
                  offline_queue_limit: 0
                  publish_timeout: 5s
                homeassistant: { enabled: false, discovery_prefix: ha, status_topic: ha/online }
                http: { enabled: false, listen: "[::1]:8080" }
                log: { level: trace, format: json }
                mappings: { directory: mappings }
                sources:
                  - id: han
                    type: cozify_han
                    name: Electricity meter
                    url: http://192.168.1.50
                    enabled: false
                    timeout: 1500ms
                    ca_file: ca.pem
                    insecure_tls: true
                    read_only: true
                    accept_retained_commands: true
                    mapping: mappings
                    stream: poll
                    poll_interval: 1m30s
                    token: t0ken
                  - { id: battery, type: flowerhub, username: me@example.com, password: pw }
                  - id: garage
                    type: ocpp_csms
                    url: https://csms.example
                    token: tok
                    remote_start_id_tag: TAG001
                    charge_points: [cp-1, cp-2]
                  - { id: router, type: fritz_network, url: http://fritz.box, api_key: key, requests_per_minute: 600,
                      track_devices: false, away_after: 10m }
                  - { id: bms, type: tinybms, url: http://tinybms.local, stream: poll, poll_interval: 2s }
                """
            let file = try directory.write("api2mqtt.yaml", yaml)
            let configuration = try ConfigLoader.load(file: file, environment: [:])
            let mqtt = configuration.mqtt
            #expect(mqtt.url == BrokerURL(scheme: .mqtts, host: "broker.example", port: 8884))
            #expect(mqtt.clientID == "bridge-1")
            #expect(mqtt.username == "bridge")
            #expect(mqtt.password?.revealed == "from-file")
            #expect(mqtt.protocolVersion == .v311)
            #expect(mqtt.keepalive == .seconds(30))
            #expect(mqtt.tls == TLSSettings(caFile: ca, certFile: cert, keyFile: key, insecure: true))
            #expect(mqtt.baseTopic == "home/bridge")
            #expect(mqtt.reconnectMaxDelay == .seconds(120))
            #expect(mqtt.offlineQueueLimit == 0)
            #expect(mqtt.publishTimeout == .seconds(5))
            #expect(configuration.homeassistant == HomeAssistantSettings(enabled: false, discoveryPrefix: "ha", statusTopic: "ha/online"))
            #expect(configuration.http == HTTPSettings(enabled: false, listen: ListenAddress(host: "::1", port: 8080)))
            #expect(configuration.log == LogSettings(level: .trace, format: .json))
            #expect(configuration.mappings.directory == overlay)
            #expect(configuration.sources.map(\.id) == ["han", "battery", "garage", "router", "bms"])
            #expect(configuration.sources.map(\.type) == [.cozifyHAN, .flowerhub, .ocppCSMS, .fritzNetwork, .tinyBMS])

            let han = configuration.sources[0]
            #expect(han.name == "Electricity meter")
            #expect(han.url == URL(string: "http://192.168.1.50"))
            #expect(!han.enabled)
            #expect(han.timeout == .milliseconds(1500))
            #expect(han.caFile == ca)
            #expect(han.insecureTLS && han.readOnly && han.acceptRetainedCommands)
            #expect(han.mapping == overlay)
            #expect(han.string("stream") == "poll")
            #expect(han.duration("poll_interval") == .seconds(90))
            #expect(han.secret("token")?.revealed == "t0ken")

            let battery = configuration.sources[1]
            #expect(battery.name == "battery")
            #expect(battery.url == URL(string: "https://portal.flowerhub.se"))
            #expect(battery.string("username") == "me@example.com")
            #expect(battery.secret("password")?.revealed == "pw")
            #expect(battery.duration("poll_interval") == .seconds(60))
            #expect(battery.timeout == .seconds(10) && battery.enabled && !battery.readOnly)

            let garage = configuration.sources[2]
            #expect(garage.secret("token")?.revealed == "tok")
            #expect(garage.string("remote_start_id_tag") == "TAG001")
            #expect(garage.strings("charge_points") == ["cp-1", "cp-2"])
            #expect(garage.duration("poll_interval") == .seconds(15))

            let router = configuration.sources[3]
            #expect(router.secret("api_key")?.revealed == "key")
            #expect(router.int("requests_per_minute") == 600)
            #expect(router.bool("track_devices") == false)
            #expect(router.duration("away_after") == .seconds(600))

            let bms = configuration.sources[4]
            #expect(bms.string("stream") == "poll")
            #expect(bms.duration("poll_interval") == .seconds(2))
            #expect(bms.secret("password") == nil)
        }
    }

    @Test(
        "Each source type fills in its own defaults",
        arguments: [
            ("type: cozify_han, url: 'http://h'", ["stream": ConfigValue.string("sse"), "poll_interval": .duration(.seconds(10))]),
            ("type: flowerhub, username: u, password: p", ["poll_interval": .duration(.seconds(60))]),
            ("type: ocpp_csms, url: 'http://h', username: u, password: p", ["poll_interval": .duration(.seconds(15))]),
            (
                "type: fritz_network, url: 'http://h', api_key: k",
                ["requests_per_minute": .int(10), "track_devices": .bool(true), "away_after": .duration(.seconds(300))]
            ),
            ("type: tinybms, url: 'http://h'", ["stream": .string("websocket"), "poll_interval": .duration(.seconds(5))]),
        ]
    )
    func typeDefaults(keys: String, defaults: [String: ConfigValue]) throws {
        let yaml = "mqtt: { url: 'mqtt://b' }\nsources:\n  - { id: s, \(keys) }\n"
        let source = try #require(ConfigTestSupport.load(yaml)?.sources.first)
        for (key, value) in defaults {
            #expect(source.options[key] == value, "\(key)")
        }
    }

    @Test("The protocol accepts 5 and 3.1.1 as numbers or strings")
    func protocolSpellings() {
        for (text, version) in [("5", MQTTProtocolVersion.v5), ("'5'", .v5), ("3.1.1", .v311), ("\"3.1.1\"", .v311)] {
            let configuration = ConfigTestSupport.load("mqtt: { url: 'mqtt://b', protocol: \(text) }")
            #expect(configuration?.mqtt.protocolVersion == version, "\(text)")
        }
    }

    @Test("An absent or empty sources list means no sources")
    func emptySources() {
        #expect(ConfigTestSupport.load("mqtt: { url: 'mqtt://b' }\nsources: []")?.sources == [])
        #expect(ConfigTestSupport.load("mqtt: { url: 'mqtt://b' }\nsources:")?.sources == [])
    }
}
