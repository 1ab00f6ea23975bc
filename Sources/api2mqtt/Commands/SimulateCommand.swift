import ArgumentParser

/// `api2mqtt simulate TYPE`: runs `api2mqtt-simulators simulate TYPE …` (next to this executable)
/// in place of this process: one device simulator on 127.0.0.1, controlled line by line from
/// standard input (see that command: `down`, `up`, `restart`, `fault WORD [PATH…]`, `clear`,
/// `quirk NAME`, `unquirk NAME`, `quit`; prints `listening PORT` once serving).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate", abstract: "Run one device simulator on loopback, controlled from standard input.")

    @Argument(help: "The source type to simulate.")
    var type: String

    @Option(help: "Port on 127.0.0.1 (0 picks a free one).")
    var port: Int = 0

    @Option(help: "Seconds between simulated readings (telegrams, telemetry frames).")
    var interval: Int = 10

    @Option(help: "Seconds after each (re)start before the device has data (a reader warming up).")
    var warmup: Int = 0

    func run() throws {
        do {
            try SimulatorsExecutable.exec([
                "simulate", type, "--port", "\(port)", "--interval", "\(interval)", "--warmup", "\(warmup)",
            ])
        } catch {
            ConfigurationGate.printError("\(error)")
            throw ExitCode.failure
        }
    }
}
