import ArgumentParser
import BridgeCore
import Logging
import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `api2mqtt demo --mqtt-url URL`: starts the device simulators on loopback (the
/// `api2mqtt-simulators` executable next to this one, as a child process) and the bridge against
/// them with `Config/demo.yaml`, so a newcomer sees devices appear with no hardware. The broker is
/// the caller's (scripts/demo starts a private mosquitto on a free port).
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
        let simulators: SimulatorsChild
        do {
            simulators = try await SimulatorsChild.start(arguments: interval.map { ["--interval", "\($0)"] } ?? [])
        } catch {
            ConfigurationGate.printError("\(error)")
            throw ExitCode.failure
        }
        for endpoint in simulators.endpoints { environment[endpoint.variable] = endpoint.url }
        let configuration: BridgeConfiguration
        do {
            configuration = try ConfigLoader.load(file: config, environment: environment)
        } catch {
            ConfigurationGate.printError(error.description)
            await simulators.stop()
            throw ExitCode.failure
        }
        LoggingBootstrap.bootstrap(configuration.log)
        let logger = Logger(label: "api2mqtt")
        logger.notice(
            "Demo simulators running",
            metadata: Dictionary(
                simulators.endpoints.map { ($0.type, Logger.MetadataValue.string($0.url)) }, uniquingKeysWith: { first, _ in first }
            ).merging(["simulators_pid": "\(simulators.pid)"]) { first, _ in first })
        do {
            let bridge = try await buildBridge(configuration: configuration, logger: logger)
            try await bridge.group.run()
        } catch {
            logger.critical("api2mqtt demo stopped on an error", metadata: ["error": "\(error)"])
            await simulators.stop()
            throw ExitCode.failure
        }
        await simulators.stop()
    }
}
