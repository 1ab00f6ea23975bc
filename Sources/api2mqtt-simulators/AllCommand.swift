import ArgumentParser
import Dispatch
import Foundation
import Simulators
import UnixSignals

/// `api2mqtt-simulators all`: every simulator of `SimulatorCatalog` on a free loopback port, for
/// `api2mqtt demo`. Prints one line per simulator, `simulator TYPE VARIABLE URL` (VARIABLE is the
/// environment variable `Config/demo.yaml` reads its URL from), then `ready`; runs until its
/// standard input closes (so it ends with the process that started it, however that ends),
/// `quit` is read, or SIGTERM/SIGINT.
struct AllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all", abstract: "Run every simulator on loopback until standard input closes.")

    @Option(help: "Seconds between simulated readings of every simulator (default: each device's own cadence).")
    var interval: Int?

    func run() async throws {
        let options = SimulatorCatalog.Options(interval: interval.map { .seconds(max(1, $0)) })
        var running: [any ControllableSimulator] = []
        for entry in SimulatorCatalog.entries {
            let simulator = entry.make(options)
            do {
                let port = try await simulator.start()
                running.append(simulator)
                print("simulator \(entry.type) \(entry.urlVariable) http://127.0.0.1:\(port)")
            } catch {
                FileHandle.standardError.write(Data("the \(entry.type) simulator did not start: \(error)\n".utf8))
                for started in running { await started.stop() }
                throw ExitCode.failure
            }
        }
        print("ready")
        fflush(nil)
        // The standard-input reader blocks a thread of its own (not a task, which could not be
        // cancelled); the first stop reason ends the wait.
        let (stops, stop) = AsyncStream.makeStream(of: Void.self)
        DispatchQueue.global().async {
            while let line = readLine() {
                if line.trimmingCharacters(in: .whitespaces) == "quit" { break }
            }
            stop.yield()
        }
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let signalWatch = Task {
            for await _ in signals {
                stop.yield()
                return
            }
        }
        for await _ in stops { break }
        signalWatch.cancel()
        for simulator in running { await simulator.stop() }
    }
}
