import ArgumentParser
import BridgeCore
import Logging
import Mosquitto
import ServiceLifecycle
import Synchronization

/// `api2mqtt run --config FILE`: runs the bridge until SIGTERM or SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the bridge until SIGTERM/SIGINT.")

    @Option(name: .shortAndLong, help: "The configuration file.")
    var config: String = "Config/api2mqtt.yaml"

    func run() async throws {
        let configuration = try ConfigurationGate.load(file: config)
        LoggingBootstrap.bootstrap(configuration.log)
        let logger = Logger(label: "api2mqtt")
        let bridge = try await buildBridge(configuration: configuration, logger: logger)
        logger.notice(
            "api2mqtt starting",
            metadata: [
                "version": "\(BuildInfo.current.version)", "config": "\(config)",
                "mqtt.broker": "\(configuration.mqtt.url)",
            ])
        do {
            try await bridge.group.run()
        } catch {
            await logCommands(bridge, logger)
            logger.critical("api2mqtt stopped on an error", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        await logCommands(bridge, logger)
        logger.notice("api2mqtt stopped")
    }

    /// One line at exit: what became of every command received (each is answered once), and the
    /// received messages the client dropped because the bridge fell behind (never handled).
    private func logCommands(_ bridge: RunningBridge, _ logger: Logger) async {
        let counts = await bridge.bridge.router.counts
        logger.notice(
            "Commands: \(counts)",
            metadata: [
                "commands.received": "\(counts.received)", "commands.answered": "\(counts.answered)",
                "commands.ok": "\(counts.ok)", "commands.shutting_down": "\(counts.shuttingDown)",
                "commands.failed": "\(counts.failed)", "commands.not_published": "\(counts.notPublished)",
                "commands.pending": "\(counts.pending)",
                "mqtt.incoming_dropped": "\(bridge.client.statistics.incomingDropped.load(ordering: .relaxed))",
            ])
    }
}

/// `api2mqtt check --config FILE`: validates the configuration and exits 0, or prints every
/// problem (one per line, `file:line:column: key: message`) and exits 1.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate the configuration; exit 0 if it is usable.")

    @Option(name: .shortAndLong, help: "The configuration file.")
    var config: String = "Config/api2mqtt.yaml"

    func run() async throws {
        let configuration = try ConfigurationGate.load(file: config)
        let enabled = configuration.sources.filter(\.enabled).count
        print("\(config): OK (\(configuration.sources.count) sources, \(enabled) enabled)")
    }
}

/// `api2mqtt version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        let info = BuildInfo.current
        print("api2mqtt \(info.version) (commit \(info.commit))")
    }
}
