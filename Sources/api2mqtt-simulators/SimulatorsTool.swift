import ArgumentParser

/// `api2mqtt-simulators`: the device simulators as processes of their own, outside the daemon.
/// `api2mqtt demo` runs `all`; `api2mqtt simulate` runs `simulate`.
@main
struct SimulatorsTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api2mqtt-simulators",
        abstract: "Simulators of the device APIs api2mqtt bridges, on loopback.",
        subcommands: [SimulateCommand.self, AllCommand.self]
    )
}
