import ArgumentParser

/// The `api2mqtt` command: bridges device and cloud HTTP APIs to MQTT with Home Assistant discovery.
@main
struct API2MQTT: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api2mqtt",
        abstract: "Bridges device and cloud HTTP APIs to MQTT, with Home Assistant discovery.",
        subcommands: [
            RunCommand.self, CheckCommand.self, DemoCommand.self, SimulateCommand.self, MappingsCommand.self, DiscoveryCommand.self, VersionCommand.self,
            HealthCommand.self,
        ],
        defaultSubcommand: nil
    )
}
