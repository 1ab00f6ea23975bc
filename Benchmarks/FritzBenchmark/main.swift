// Fritz!Box network: requests per minute used against the rate budget, and the freshness users
// get (delay from a client coming or going in the simulator to its tracker changing on MQTT).
//
// Usage: FritzBenchmark [simulated minutes, 30] [runs, 5] [first seed, 3]
// Each scenario runs `runs` times (seeds first…first+runs-1, each its own network history) and
// the figures pool the runs. TRACE=1 prints every client change with its tracker's messages.
// (Benchmarks/run-fritz-benchmark builds it and runs it.)
//
// Accelerated: the bridge's real parts run in this process against a real mosquitto and the
// simulator over loopback sockets, but on one simulated clock (AcceleratedBridge's
// FritzAcceleratedRun) shared by the runner's schedule, the adapter's budget and the simulator.
// The clock steps (≤ 1 s at a time) only when every task is parked on it and the subscriber has
// every message the bridge sent, so every figure below is in simulated time and does not depend
// on the machine's speed; message transport and processing count as zero time.
import AcceleratedBridge
import BridgeCore
import Foundation
import Logging
import Mosquitto
import Simulators
import TestSupport

// Errors only, on stderr (the broker clients' connect notices would interleave with the table).
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .error
    return handler
}
let logger = Logger(label: "bench")

let arguments = CommandLine.arguments
let minutes = arguments.count > 1 ? Int(arguments[1]) ?? 30 : 30
let runs = max(1, arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5)
let firstSeed = arguments.count > 3 ? UInt64(arguments[3]) ?? 3 : 3
let trace = ProcessInfo.processInfo.environment["TRACE"] != nil

struct Scenario {
    var name: String
    var settings: FritzAcceleratedRun.Settings
}

let mobileExtras = FritzNetworkClient.extra(150).map { client -> FritzNetworkClient in
    var mobile = client
    mobile.isMobile = true
    return mobile
}
let small = FritzAcceleratedRun.Settings()
var large = FritzAcceleratedRun.Settings()
large.clients = FritzNetworkClient.defaultNetwork + mobileExtras
large.maxPageSize = 100
var paged = large
paged.maxPageSize = 50
let scenarios = [
    Scenario(name: "12 clients, 6 mobile", settings: small),
    Scenario(name: "162 clients, 156 mobile, pages of 100", settings: large),
    Scenario(name: "162 clients, 156 mobile, pages of 50", settings: paged),
]

/// The value at quantile `q` (nearest rank) of sorted `values`.
func quantile(_ sorted: [Double], _ q: Double) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func format(_ value: Double?) -> String {
    value.map { String(format: "%.0f", $0) } ?? "-"
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func lpad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// What became of client changes of one kind.
struct Freshness {
    var delays: [Double] = []
    /// The tracker already showed the new state (a short absence: back within away_after).
    var unseen = 0
    /// The client changed back before its tracker changed.
    var reverted = 0
    /// No tracker change by the end of the run.
    var pending = 0

    mutating func add(_ other: Freshness) {
        delays += other.delays
        unseen += other.unseen
        reverted += other.reverted
        pending += other.pending
    }
}

/// One scenario's figures, pooled over its runs.
struct Result {
    var scenario: String
    var requests = 0
    var busiest = 0
    var simulated = Duration.zero
    var limited = 0
    var logins = 0
    /// The longest time between two complete reads of the client list (its last page answered).
    var devicesGap = 0.0
    var arrivals = Freshness()
    var departures = Freshness()
    var wall = Duration.zero
}

/// Matches each client change in the simulator with its tracker's first change to the new state.
func freshness(_ run: FritzAcceleratedRun) -> (arrivals: Freshness, departures: Freshness) {
    var presences: [String: [(at: Duration, presence: String)]] = [:]
    for item in run.messages where item.message.topic.hasPrefix("api2mqtt/router_") {
        if let presence = FritzAcceleratedRun.presence(item.message) {
            presences[item.message.topic, default: []].append((item.at, presence))
        }
    }
    var arrivals = Freshness()
    var departures = Freshness()
    let changes = run.clientChanges
    for (index, change) in changes.enumerated() {
        let shownStates = presences[FritzAcceleratedRun.trackerTopic(change.id)] ?? []
        let wanted = change.online ? "home" : "not_home"
        let before = shownStates.last { $0.at < change.at }?.presence
        let next = changes[(index + 1)...].first { $0.id == change.id }?.at
        var outcome = Freshness()
        if before == wanted {
            outcome.unseen = 1
        } else if let shown = shownStates.first(where: { $0.at >= change.at && $0.presence == wanted }),
            next.map({ shown.at <= $0 }) ?? true
        {
            outcome.delays = [seconds(shown.at - change.at)]
        } else if next != nil {
            outcome.reverted = 1
        } else {
            outcome.pending = 1
        }
        if trace {
            let shown = shownStates.map { "\(seconds($0.at)) \($0.presence)" }.joined(separator: ", ")
            let result = outcome.delays.first.map { "shown after \($0) s" } ?? (outcome.unseen > 0 ? "unseen" : outcome.reverted > 0 ? "reverted" : "pending")
            print("\(change.id) \(change.online ? "arrives" : "leaves") at \(seconds(change.at)) s: \(result); tracker: \(shown)")
        }
        if change.online { arrivals.add(outcome) } else { departures.add(outcome) }
    }
    return (arrivals, departures)
}

var results: [Result] = []
for scenario in scenarios {
    var result = Result(scenario: scenario.name)
    for seed in firstSeed..<(firstSeed + UInt64(runs)) {
        var settings = scenario.settings
        settings.seed = seed
        let started = ContinuousClock.now
        let run = try await FritzAcceleratedRun.with(settings, logger: logger) { run in
            try await run.run(for: .seconds(minutes * 60))
            let records = run.simulator.apiRequests
            var result = Result(scenario: scenario.name)
            result.requests = records.count
            result.busiest = run.simulator.maxRequests(inAnyWindow: .seconds(60))
            result.simulated = run.clock.elapsed
            result.limited = records.count { $0.status == 429 }
            result.logins = run.simulator.state.logins
            let lastPage = (run.settings.clients.count - 1) / run.settings.maxPageSize * run.settings.maxPageSize
            let complete = records.filter {
                $0.path.hasSuffix("/devices") && $0.status == 200 && $0.query.hasSuffix("offset=\(lastPage)")
            }.map(\.at)
            result.devicesGap = zip(complete, complete.dropFirst()).map { $1.timeIntervalSince($0) }.max() ?? 0
            (result.arrivals, result.departures) = freshness(run)
            return result
        }
        result.requests += run.requests
        result.busiest = max(result.busiest, run.busiest)
        result.simulated += run.simulated
        result.limited += run.limited
        result.logins += run.logins
        result.devicesGap = max(result.devicesGap, run.devicesGap)
        result.arrivals.add(run.arrivals)
        result.departures.add(run.departures)
        result.wall += ContinuousClock.now - started
    }
    results.append(result)
}

let away = Double(FritzAcceleratedRun.Settings().awayAfterSeconds)
let seeds = runs == 1 ? "seed \(firstSeed)" : "seeds \(firstSeed)–\(firstSeed + UInt64(runs) - 1)"
print("Fritz!Box network benchmark: \(runs) run(s) of \(minutes) simulated minutes per scenario (\(seeds)), JWT login,")
print("requests_per_minute 10, away_after \(Int(away)) s. Accelerated: the bridge in-process on one simulated clock shared")
print("with the simulator, a real mosquitto, loopback sockets; every figure but 'wall s' is in simulated time.")
print("")
print("Requests the simulator received, against the budget of 10 in any rolling minute")
print(
    pad("scenario", 40) + lpad("requests", 9) + lpad("max/60s", 9) + lpad("mean/min", 10) + lpad("429s", 6) + lpad("logins", 8)
        + lpad("devices gap s", 15) + lpad("wall s", 8))
for result in results {
    print(
        pad(result.scenario, 40) + lpad("\(result.requests)", 9) + lpad("\(result.busiest)", 9)
            + lpad(String(format: "%.2f", Double(result.requests) / seconds(result.simulated) * 60), 10)
            + lpad("\(result.limited)", 6) + lpad("\(result.logins)", 8)
            + lpad(String(format: "%.0f", result.devicesGap), 15) + lpad(String(format: "%.1f", seconds(result.wall)), 8))
}
print("")
print("Freshness: seconds from a client's change in the simulator (the router) to its tracker's change on MQTT.")
print("Departures wait for away_after by design; 'minus away_after' subtracts it. It is negative when not_home came")
print("less than away_after after the departure: absence counts from the last devices read that saw the client online,")
print("which can precede the departure by up to a devices interval, or by more after a short return no read saw.")
print(
    pad("scenario", 40) + pad("change", 22) + lpad("n", 5) + lpad("min", 6) + lpad("median", 8) + lpad("p99", 6) + lpad("max", 6)
        + lpad("unseen", 8) + lpad("reverted", 10) + lpad("pending", 9))
for result in results {
    let rows: [(String, Freshness, Double)] = [
        ("arrival → home", result.arrivals, 0), ("departure → not_home", result.departures, 0),
        ("  minus away_after", result.departures, away),
    ]
    for (kind, freshness, offset) in rows {
        let sorted = freshness.delays.map { $0 - offset }.sorted()
        let counts =
            offset == 0 ? (lpad("\(freshness.unseen)", 8) + lpad("\(freshness.reverted)", 10) + lpad("\(freshness.pending)", 9)) : ""
        print(
            pad(result.scenario, 40) + pad(kind, 22) + lpad("\(sorted.count)", 5) + lpad(format(sorted.first), 6)
                + lpad(format(quantile(sorted, 0.5)), 8) + lpad(format(quantile(sorted, 0.99)), 6) + lpad(format(sorted.last), 6)
                + counts)
    }
}
print("")
print("devices gap: the longest time between two complete reads of the client list (every page answered).")
print("n: changes whose tracker changed; unseen: the tracker already showed the new state (back within away_after,")
print("so never not_home); reverted: the client changed back before its tracker changed; pending: not shown by the end.")
