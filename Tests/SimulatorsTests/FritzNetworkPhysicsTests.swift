import BridgeCore
import Foundation
import Simulators
import Testing

/// The simulated network over simulated time: determinism, cadence, counters, clients.
@Suite("Fritz!Box network simulator: physics")
struct FritzNetworkPhysicsTests {
    @Test("equal seeds give equal networks for equal time; a different seed differs")
    func determinism() {
        func run(_ seed: UInt64) -> (FritzNetworkWAN, [Bool]) {
            let simulator = FritzNetworkSimulator(configuration: .test(seed: seed))
            simulator.advance(by: .seconds(3_600))
            let state = simulator.state
            return (state.wan, state.clients.map(\.isOnline))
        }
        let (first, firstClients) = run(7)
        let (second, secondClients) = run(7)
        #expect(first.bytesSent == second.bytesSent && first.upstream == second.upstream && first.externalIP == second.externalIP)
        #expect(firstClients == secondClients)
        #expect(run(8).0.bytesSent != first.bytesSent)
    }

    @Test("the server refreshes its cache every 15–30 s of simulated time; between refreshes fetched_at stays")
    func refreshCadence() {
        let simulator = FritzNetworkSimulator(configuration: .test())
        var fetched: [Date] = []
        for _ in 0..<600 {
            simulator.advance(by: .seconds(1))
            if let at = simulator.state.cache?.fetchedAt, at != fetched.last { fetched.append(at) }
        }
        let gaps = zip(fetched.dropFirst(), fetched).map { $0.timeIntervalSince($1) }
        #expect(gaps.count >= 19 && gaps.count <= 41, "\(gaps.count) refreshes in 10 minutes")
        #expect(gaps.allSatisfy { $0 >= 14.999 && $0 <= 31 }, "\(gaps)")
    }

    @Test("rates stay within the line, counters only grow, uptime follows time; WAN down and up restarts uptime")
    func counters() {
        let simulator = FritzNetworkSimulator(configuration: .test())
        var last = simulator.state.wan
        for _ in 0..<120 {
            simulator.tick()
            let wan = simulator.state.wan
            #expect(wan.bytesSent > last.bytesSent && wan.bytesReceived > last.bytesReceived)
            #expect((1...wan.maxUpstream).contains(wan.upstream) && (1...wan.maxDownstream).contains(wan.downstream))
            #expect(wan.uptime == last.uptime + 5)
            last = wan
        }
        simulator.setWANConnected(false)
        simulator.tick()
        #expect(simulator.state.wan.uptime == 0 && simulator.state.wan.downstream == 0)
        #expect(simulator.state.cache?.wan.isConnected == false)
        simulator.setWANConnected(true)
        simulator.tick()
        #expect(simulator.state.wan.uptime == 5)
    }

    @Test("mobile clients come and go over hours; stationary ones and pinned ones stay")
    func mobility() {
        let simulator = FritzNetworkSimulator(configuration: .test())
        simulator.setClient("iPhone-Federico", online: true)
        var changes: [String: Int] = [:]
        var previous = simulator.state.clients
        for _ in 0..<(6 * 720) {
            simulator.advance(by: .seconds(5))
            let clients = simulator.state.clients
            for (old, new) in zip(previous, clients) where old.isOnline != new.isOnline { changes[new.name, default: 0] += 1 }
            previous = clients
        }
        let mobile = Set(FritzNetworkClient.defaultNetwork.filter(\.isMobile).map(\.name)).subtracting(["iPhone-Federico"])
        #expect(Set(changes.keys).isSubset(of: mobile), "\(changes)")
        #expect(changes.keys.count >= 3, "most mobile clients moved in six hours: \(changes)")
        #expect(simulator.state.clients.first { $0.name == "iPhone-Federico" }?.isOnline == true)
    }

    @Test("a client leaving shows in the API only after the next refresh")
    func leavingNeedsRefresh() async throws {
        try await withFritz { simulator, http in
            #expect(simulator.setClient("AA:BB:CC:DD:EE:01", online: false))
            #expect(!simulator.setClient("00:00:00:00:00:00", online: false))
            func status() async throws -> Int64? {
                let devices = try await http.get("/api/v1/fritzbox/devices", headers: fritzKey)
                return devices.json?["items"]?.array?.first { $0["mac"]?.string == "AA:BB:CC:DD:EE:01" }?["status"]?.integer
            }
            #expect(try await status() == 1, "the cache still has it online")
            simulator.tick()
            #expect(try await status() == 0)
            simulator.setClient("AA:BB:CC:DD:EE:01", online: true)
            simulator.refreshNow()
            #expect(try await status() == 1)
            simulator.addClients(FritzNetworkClient.extra(3))
            simulator.removeClient("NAS")
            simulator.refreshNow()
            let devices = try await http.get("/api/v1/fritzbox/devices", headers: fritzKey)
            #expect(devices.json?["total_count"]?.integer == 14)
        }
    }

    @Test("real-time mode: simulated time follows the real clock at the given scale")
    func realTime() async throws {
        let simulator = FritzNetworkSimulator(configuration: .init(timeMode: .realTime(scale: 100)))
        let start = simulator.now
        try await Task.sleep(for: .milliseconds(200))
        #expect(simulator.now.timeIntervalSince(start) >= 20)
    }
}
