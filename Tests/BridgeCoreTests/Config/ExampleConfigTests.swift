import Foundation
import Logging
import Testing

@testable import BridgeCore

/// `Config/api2mqtt.yaml` is the annotated example users copy; it must load, and it must
/// mention every key the loader accepts.
@Suite("The example configuration")
struct ExampleConfigTests {
    /// The example's path, found by walking up from this file to the package root.
    private static func examplePath(filePath: String = #filePath) throws -> String {
        var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("Config/api2mqtt.yaml")
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path),
                FileManager.default.fileExists(atPath: candidate.path)
            {
                return candidate.path
            }
            directory = directory.deletingLastPathComponent()
        }
        throw CocoaError(.fileNoSuchFile)
    }

    @Test("Loads with an empty environment, using every default placeholder")
    func loadsWithDefaults() throws {
        let configuration = try ConfigLoader.load(file: try Self.examplePath(), environment: [:])
        #expect(configuration.mqtt.url == BrokerURL(scheme: .mqtt, host: "127.0.0.1", port: 1883))
        #expect(configuration.mqtt.username == nil)
        #expect(configuration.mqtt.password == nil)
        #expect(configuration.sources.map(\.type) == SourceType.allCases)
        #expect(configuration.sources.allSatisfy { !$0.enabled }, "examples ship disabled")
    }

    @Test("Takes its values from the environment")
    func loadsWithEnvironment() throws {
        let environment = [
            "MQTT_URL": "mqtts://broker.example", "MQTT_USERNAME": "bridge", "MQTT_PASSWORD": "pw",
            "MQTT_CLIENT_ID": "api2mqtt-2", "API2MQTT_LOG_LEVEL": "debug", "HAN_TOKEN": "token",
            "TINYBMS_USERNAME": "admin", "TINYBMS_PASSWORD": "pw",
        ]
        let configuration = try ConfigLoader.load(file: try Self.examplePath(), environment: environment)
        #expect(configuration.mqtt.url.port == 8883)
        #expect(configuration.mqtt.username == "bridge")
        #expect(configuration.mqtt.password?.revealed == "pw")
        #expect(configuration.mqtt.clientID == "api2mqtt-2")
        #expect(configuration.log.level == .debug)
        #expect(configuration.sources.first?.secret("token")?.revealed == "token")
        #expect(configuration.sources.last?.secret("password")?.revealed == "pw")
    }

    @Test("Mentions every key of every section and source type")
    func documentsEveryKey() throws {
        let text = try String(contentsOfFile: try Self.examplePath(), encoding: .utf8)
        var written = Set<String>()
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " || $0 == "#" || $0 == "-" }
            if let colon = trimmed.firstIndex(of: ":"), trimmed[..<colon].allSatisfy({ $0.isLetter || $0 == "_" }) {
                written.insert(String(trimmed[..<colon]))
            }
        }
        let everyKey =
            ConfigLoader.sections + MQTTSettings.keys + MQTTSettings.tlsKeys + HomeAssistantSettings.keys
            + PublishSettings.keys
            + HTTPSettings.keys + LogSettings.keys + MappingSettings.keys + SourceConfiguration.commonKeys
            + SourceType.allCases.flatMap(\.schema.keyNames)
        for key in everyKey {
            #expect(written.contains(key), "Config/api2mqtt.yaml does not mention '\(key)'")
        }
    }
}
