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

    @Option(help: "Seconds between simulated readings of every simulator (default: each device's own cadence).")
    var interval: Int?

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["MQTT_URL"] = mqttURL
        environment["HTTP_PORT"] = "\(httpPort)"
        var running: [(type: String, simulator: any ControllableSimulator, url: String)] = []
        let options = SimulatorCatalog.Options(interval: interval.map { .seconds(max(1, $0)) })
        for entry in SimulatorCatalog.entries {
            let simulator = entry.make(options)
            do {
                let port = try await simulator.start()
                let url = "http://127.0.0.1:\(port)"
                environment[entry.urlVariable] = url
                running.append((entry.type, simulator, url))
            } catch {
                ConfigurationGate.printError("the \(entry.type) simulator did not start: \(error)")
                for started in running { await started.simulator.stop() }
                throw ExitCode.failure
            }
        }
        func stopSimulators() async {
            for started in running { await started.simulator.stop() }
        }
        let configuration: BridgeConfiguration
        do {
            configuration = try ConfigLoader.load(file: config, environment: environment)
        } catch {
            ConfigurationGate.printError(error.description)
            await stopSimulators()
            throw ExitCode.failure
        }
        LoggingBootstrap.bootstrap(configuration.log)
        let logger = Logger(label: "api2mqtt")
        logger.notice(
            "Demo simulators running",
            metadata: Dictionary(uniqueKeysWithValues: running.map { ($0.type, Logger.MetadataValue.string($0.url)) }))
        do {
            let bridge = try await buildBridge(configuration: configuration, logger: logger)
            try await bridge.group.run()
        } catch {
            logger.critical("api2mqtt demo stopped on an error", metadata: ["error": "\(error)"])
            await stopSimulators()
            throw ExitCode.failure
        }
        await stopSimulators()
    }
}
