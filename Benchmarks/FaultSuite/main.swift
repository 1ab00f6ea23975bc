// The long fault suite of issue #17 against the real `api2mqtt` executable, a real mosquitto on a
// free loopback port (started and stopped by PID) and the Cozify HAN simulator in this process.
//
// Usage: FaultSuite <api2mqtt binary> <sub-command> [arguments]
//   broker-restarts [N=100] [--rate R=20] [--seed S]   kill and restart mosquitto N times while commands arrive
//   fuzz [N=10000] [--seed S]                           N invalid commands: one error result each, no HTTP call
//   soak [--duration S=3600] [--rate R=20] [--interval I=10]   telegram stream, RSS slope and CPU
// (Benchmarks/run-fault-suite builds the release binaries and passes the paths.) Exit status 0
// when the run found nothing wrong, 1 otherwise: the figures are printed either way.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
func usage() -> Never {
    print("""
        usage: FaultSuite <api2mqtt binary> broker-restarts [N=100] [--rate R=20] [--seed S]
               FaultSuite <api2mqtt binary> fuzz [N=10000] [--seed S]
               FaultSuite <api2mqtt binary> soak [--duration SECONDS=3600] [--rate TELEGRAMS_PER_S=20] [--interval SECONDS=10]
        """)
    exit(2)
}
guard arguments.count >= 2 else { usage() }
let api2mqtt = arguments[0]
let command = arguments[1]
/// Positional arguments and `--name value` options after the sub-command.
func parse(_ rest: ArraySlice<String>) -> (positional: [String], options: [String: String]) {
    var positional: [String] = []
    var options: [String: String] = [:]
    var rest = rest
    while let argument = rest.popFirst() {
        if argument.hasPrefix("--") {
            guard let value = rest.popFirst() else { usage() }
            options[String(argument.dropFirst(2))] = value
        } else {
            positional.append(argument)
        }
    }
    return (positional, options)
}
let (positional, options) = parse(arguments.dropFirst(2))
func number(_ name: String, _ fallback: Double, in options: [String: String]) -> Double {
    guard let text = options[name] else { return fallback }
    guard let value = Double(text), value > 0 else {
        print("--\(name) needs a positive number, not \(text)")
        exit(2)
    }
    return value
}
let seed = options["seed"].flatMap { UInt64($0) } ?? 20_261_207
let count = positional.first.flatMap { Int($0) }

var passed = false
do {
    switch command {
    case "broker-restarts":
        passed = try await brokerRestarts(api2mqtt: api2mqtt, restarts: count ?? 100, rate: number("rate", 20, in: options), seed: seed)
    case "fuzz":
        passed = try await fuzz(api2mqtt: api2mqtt, count: count ?? 10_000, seed: seed)
    case "soak":
        passed = try await soak(
            api2mqtt: api2mqtt, duration: number("duration", 3600, in: options), rate: number("rate", 20, in: options), interval: number("interval", 10, in: options))
    default:
        usage()
    }
} catch {
    print("fault suite failed to run: \(error)")
    exit(1)
}
print(passed ? "PASS" : "FAIL")
exit(passed ? 0 : 1)
