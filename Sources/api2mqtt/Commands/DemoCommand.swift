import ArgumentParser
import BridgeCore
import Foundation
import Logging
import ServiceLifecycle
import Simulators

/// `api2mqtt demo --mqtt-url URL`: starts the device simulators on loopback and the bridge
/// against them with `Config/demo.yaml`, so a newcomer sees devices appear with no hardware.
/// The broker is the caller's (scripts/demo starts a private mosquitto on a free port).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run the simulators on loopback and the bridge against them.")

    @Option(help: "The broker the bridge publishes to.")
    var mqttURL: String = "mqtt://127.0.0.1:1883"

    @Option(help: "Port of the bridge's /health and /metrics.")
    var httpPort: Int = 9180

    @Option(help: "The demo configuration file.")
    var config: String = "Config/demo.yaml"

    @Option(help: "Seconds between simulated meter telegrams.")
    var telegramInterval: Int = 10

    func run() async throws {
        let simulator = CozifyHANSimulator(configuration: .init(telegramInterval: .seconds(max(1, telegramInterval))))
        let hanPort = try await simulator.start()
        var environment = ProcessInfo.processInfo.environment
        environment["MQTT_URL"] = mqttURL
        environment["HTTP_PORT"] = "\(httpPort)"
        environment["HAN_URL"] = "http://127.0.0.1:\(hanPort)"
        let configuration: BridgeConfiguration
        do {
            configuration = try ConfigLoader.load(file: config, environment: environment)
        } catch {
            ConfigurationGate.printError(error.description)
            await simulator.stop()
            throw ExitCode.failure
        }
        LoggingBootstrap.bootstrap(configuration.log)
        let logger = Logger(label: "api2mqtt")
        logger.notice("Demo simulators running", metadata: ["cozify_han": "http://127.0.0.1:\(hanPort)"])
        do {
            let bridge = try await buildBridge(configuration: configuration, logger: logger)
            try await bridge.group.run()
        } catch {
            logger.critical("api2mqtt demo stopped on an error", metadata: ["error": "\(error)"])
            await simulator.stop()
            throw ExitCode.failure
        }
        await simulator.stop()
    }
}
