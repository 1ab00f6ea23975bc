// Fritz!Box network: requests per minute used against the rate budget, and the freshness users
// get (delay from a client coming or going in the simulator to its tracker changing on MQTT).
//
// Usage: FritzBenchmark [simulated minutes] [seed]
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

var logger = Logger(label: "bench")
logger.logLevel = .error

let arguments = CommandLine.arguments
let minutes = arguments.count > 1 ? Int(arguments[1]) ?? 30 : 30
let seed = arguments.count > 2 ? UInt64(arguments[2]) ?? 3 : 3

struct Scenario {
    var name: String
    var settings: FritzAcceleratedRun.Settings
}

let mobileExtras = FritzNetworkClient.extra(150).map { client -> FritzNetworkClient in
    var mobile = client
    mobile.isMobile = true
    return mobile
}
var small = FritzAcceleratedRun.Settings()
small.seed = seed
var large = FritzAcceleratedRun.Settings()
large.seed = seed
large.clients = FritzNetworkClient.defaultNetwork + mobileExtras
large.maxPageSize = 100
let scenarios = [
    Scenario(name: "12 clients, 6 mobile", settings: small),
    Scenario(name: "162 clients, 156 mobile, pages of 100", settings: large),
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
}

struct Result {
    var scenario: String
    var clients: Int
    var requests: Int
    var busiest: Int
    var mean: Double
    var limited: Int
    var logins: Int
    var arrivals: Freshness
    var departures: Freshness
    var wall: Duration
}

var results: [Result] = []
for scenario in scenarios {
    let started = ContinuousClock.now
    let result = try await FritzAcceleratedRun.with(scenario.settings, logger: logger) { run in
        try await run.run(for: .seconds(minutes * 60))
        let records = run.simulator.apiRequests
        let received = run.messages
        var arrivals = Freshness()
        var departures = Freshness()
        let changes = run.clientChanges
        for (index, change) in changes.enumerated() {
            let topic = FritzAcceleratedRun.trackerTopic(change.id)
            let presences = received.filter { $0.message.topic == topic }.compactMap { item in
                FritzAcceleratedRun.presence(item.message).map { (at: item.at, presence: $0) }
            }
            if ProcessInfo.processInfo.environment["TRACE"] != nil {
                print("change", change.id, change.at, change.online, presences.map { "\($0.at) \($0.presence)" })
            }
            let wanted = change.online ? "home" : "not_home"
            let before = presences.last { $0.at < change.at }?.presence
            let next = changes[(index + 1)...].first { $0.id == change.id }?.at
            var outcome = change.online ? arrivals : departures
            if before == wanted {
                outcome.unseen += 1
            } else if let shown = presences.first(where: { $0.at >= change.at && $0.presence == wanted }),
                next.map({ shown.at <= $0 }) ?? true
            {
                outcome.delays.append(seconds(shown.at - change.at))
            } else if next != nil {
                outcome.reverted += 1
            } else {
                outcome.pending += 1
            }
            if change.online { arrivals = outcome } else { departures = outcome }
        }
        return Result(
            scenario: scenario.name, clients: scenario.settings.clients.count, requests: records.count,
            busiest: run.simulator.maxRequests(inAnyWindow: .seconds(60)),
            mean: Double(records.count) / seconds(run.clock.elapsed) * 60, limited: records.count { $0.status == 429 },
            logins: run.simulator.state.logins, arrivals: arrivals, departures: departures, wall: .zero)
    }
    var timed = result
    timed.wall = ContinuousClock.now - started
    results.append(timed)
}

let away = Double(FritzAcceleratedRun.Settings().awayAfterSeconds)
print("Fritz!Box network benchmark: \(minutes) simulated minutes per scenario, seed \(seed), JWT login, requests_per_minute 10,")
print("away_after \(Int(away)) s. Accelerated: simulated time on one clock shared by the bridge (in-process, real mosquitto)")
print("and the simulator; figures are simulated seconds, independent of machine speed.")
print("")
print("Requests against the budget (10 a minute), as the simulator received them")
print(pad("scenario", 40) + lpad("requests", 9) + lpad("max/60s", 9) + lpad("mean/min", 10) + lpad("429s", 6) + lpad("logins", 8) + lpad("wall s", 8))
for result in results {
    print(
        pad(result.scenario, 40) + lpad("\(result.requests)", 9) + lpad("\(result.busiest)", 9)
            + lpad(String(format: "%.2f", result.mean), 10) + lpad("\(result.limited)", 6) + lpad("\(result.logins)", 8)
            + lpad(String(format: "%.0f", seconds(result.wall)), 8))
}
print("")
print("Freshness: simulated seconds from a client's change in the simulator (router) to its tracker's change on MQTT")
print("(departures include away_after by design; 'minus away' subtracts it)")
print(
    pad("scenario", 40) + pad("change", 22) + lpad("n", 5) + lpad("median", 8) + lpad("p99", 6) + lpad("max", 6)
        + lpad("unseen", 8) + lpad("reverted", 10) + lpad("pending", 9))
for result in results {
    let rows: [(String, Freshness, Double)] = [
        ("arrival → home", result.arrivals, 0), ("departure → not_home", result.departures, 0),
        ("  minus away_after", result.departures, away),
    ]
    for (kind, freshness, offset) in rows {
        let sorted = freshness.delays.map { $0 - offset }.sorted()
        let counts = offset == 0 ? (lpad("\(freshness.unseen)", 8) + lpad("\(freshness.reverted)", 10) + lpad("\(freshness.pending)", 9)) : ""
        print(
            pad(result.scenario, 40) + pad(kind, 22) + lpad("\(sorted.count)", 5) + lpad(format(quantile(sorted, 0.5)), 8)
                + lpad(format(quantile(sorted, 0.99)), 6) + lpad(format(sorted.last), 6) + counts)
    }
}
print("")
print("unseen: the tracker already showed the new state (a client back within away_after never went not_home);")
print("reverted: the client changed back before its tracker changed; pending: no tracker change by the end.")
