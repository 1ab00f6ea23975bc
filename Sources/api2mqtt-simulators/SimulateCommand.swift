import ArgumentParser
import Dispatch
import Foundation
import Logging
import Simulators

/// `api2mqtt-simulators simulate TYPE` (also reached as `api2mqtt simulate TYPE`): one device
/// simulator on 127.0.0.1, controlled line by line from standard input, for by-hand and scripted
/// runs against a real Home Assistant (`scripts/ha-validate-lifecycle`). Control words: `down`, `up`, `restart`,
/// `fault WORD [PATH…]` (`500`, `503`, `timeout`, `slow:N`, `malformed`, `unauthorized`, `drop`),
/// `clear`, `quirk NAME`, `unquirk NAME`, `quit`. Prints `listening PORT` once serving and
/// `ok …` or `error …` for each control line.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate", abstract: "Run one device simulator on loopback, controlled from standard input.")

    @Argument(help: "The source type to simulate (see SimulatorCatalog).")
    var type: String

    @Option(help: "Port on 127.0.0.1 (0 picks a free one).")
    var port: Int = 0

    @Option(help: "Seconds between simulated readings (telegrams, telemetry frames).")
    var interval: Int = 10

    @Option(help: "Seconds after each (re)start before the device has data (a reader warming up).")
    var warmup: Int = 0

    func run() async throws {
        guard let entry = SimulatorCatalog.entry(type) else {
            throw ValidationError(
                "no simulator for '\(type)' in this build (\(SimulatorCatalog.entries.map(\.type).joined(separator: ", ")))")
        }
        let simulator = entry.make(
            SimulatorCatalog.Options(interval: .seconds(max(1, interval)), warmup: .seconds(max(0, warmup)), port: port))
        let bound = try await simulator.start()
        print("listening \(bound)")
        fflush(nil)
        while let line = await Self.nextLine() {
            let words = line.split(separator: " ")
            guard let command = words.first else { continue }
            let reply: String
            switch command {
            case "down":
                await simulator.stopAbruptly()
                reply = "ok down"
            case "up":
                try await simulator.start()
                reply = "ok up"
            case "restart":
                try await simulator.restart()
                reply = "ok restarted"
            case "fault" where words.count >= 2:
                if let fault = Fault(controlWord: words[1]) {
                    let paths = words.dropFirst(2).map(String.init)
                    simulator.faults.activate(fault, on: paths.isEmpty ? .all : .paths(Set(paths)))
                    reply = "ok fault \(fault)"
                } else {
                    reply = "error unknown fault '\(words[1].prefix(40))'"
                }
            case "clear":
                simulator.faults.clear()
                reply = "ok clear"
            case "quirk" where words.count == 2:
                simulator.faults.enable(Quirk(String(words[1])))
                reply = "ok quirk \(words[1])"
            case "unquirk" where words.count == 2:
                simulator.faults.disable(Quirk(String(words[1])))
                reply = "ok unquirk \(words[1])"
            case "quit":
                await simulator.stop()
                print("ok quit")
                return
            default:
                reply = "error unknown control line"
            }
            print(reply)
            fflush(nil)
        }
        await simulator.stop()
    }

    /// The next line of standard input, read off the cooperative pool (the read blocks).
    static func nextLine() async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: readLine()) }
        }
    }
}
