import BridgeCore
import Foundation
import NIOCore
import Simulators
import Testing

/// The shared fault plan on the Fritz!Box simulator, over real sockets.
@Suite("Fritz!Box network simulator: faults")
struct FritzNetworkFaultTests {
    @Test("httpError 500 on one path, unauthorized everywhere, malformed JSON; cleared, all answer again")
    func faults() async throws {
        try await withFritz { simulator, http in
            simulator.faults.activate(.httpError(500), on: .paths(["/api/v1/fritzbox/wan"]))
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: fritzKey).status == 500)
            #expect(try await http.get("/api/v1/fritzbox/bandwidth", headers: fritzKey).status == 200)
            simulator.faults.clear()

            simulator.faults.activate(.unauthorized)
            #expect(try await http.get("/api/v1/fritzbox/wan", headers: fritzKey).status == 401)
            simulator.faults.clear()

            simulator.faults.activate(.malformedJSON)
            let broken = try await http.get("/api/v1/fritzbox/devices", headers: fritzKey)
            #expect(broken.status == 200)
            #expect(broken.text.hasPrefix("{") && broken.json == nil)
            simulator.faults.clear()
            #expect(try await http.get("/api/v1/fritzbox/devices", headers: fritzKey).json != nil)
            #expect(simulator.apiRequests.map(\.status) == [500, 200, 401, 200, 200])
        }
    }

    @Test("timeout hangs the request until the fault is switched off; slow delays it")
    func timeoutAndSlow() async throws {
        try await withFritz { simulator, http in
            simulator.faults.activate(.timeout, on: .paths(["/api/v1/fritzbox/wan"]))
            let pending = Task { try await http.get("/api/v1/fritzbox/wan", headers: fritzKey) }
            try await eventually("the hanging request to arrive") { simulator.requests.count(path: "/api/v1/fritzbox/wan") == 1 }
            #expect(simulator.apiRequests.last?.status == nil, "still in flight")
            simulator.faults.deactivate(.timeout)
            #expect(try await pending.value.status == 200, "answered normally once the fault is off")

            simulator.faults.activate(.slow(.milliseconds(200)))
            let started = ContinuousClock.now
            #expect(try await http.get("/health").status == 200)
            #expect(ContinuousClock.now - started >= .milliseconds(200))
        }
    }

    /// A real server's limiter counts a request when it arrives. Counting the requests a timeout
    /// held when they are let go instead filled the minute after the fault with requests the
    /// client had given up on long before, and its next request got 429 (the bridge then waited 60 s).
    @Test("a request held by the timeout counts against the rate limit when it arrived, not when it is let go")
    func timeoutCountsOnArrival() async throws {
        try await withFritz(.test(rateLimit: 2)) { simulator, http in
            simulator.faults.activate(.timeout, on: .paths(["/api/v1/fritzbox/wan"]))
            let first = PendingRequest { try await http.get("/api/v1/fritzbox/wan", headers: fritzKey) }
            let second = PendingRequest { try await http.get("/api/v1/fritzbox/wan", headers: fritzKey) }
            defer {
                first.cancel()
                second.cancel()
            }
            try await eventually("both held requests to arrive") { simulator.requests.count(path: "/api/v1/fritzbox/wan") == 2 }
            #expect(try await http.get("/api/v1/fritzbox/bandwidth", headers: fritzKey).status == 429, "the held two fill the minute")

            simulator.advance(by: .seconds(61))
            simulator.faults.deactivate(.timeout)
            #expect(try await first.result().status == 200)
            #expect(try await second.result().status == 200)
            #expect(try await http.get("/api/v1/fritzbox/bandwidth", headers: fritzKey).status == 200, "their minute is over")
        }
    }

    @Test("down: stopAbruptly refuses connections, start serves again on the same port with the same state")
    func down() async throws {
        try await withFritz(keepAlive: false) { simulator, http in
            let port = try #require(simulator.port)
            simulator.setClient("NAS", online: false)
            await simulator.stopAbruptly()
            let refused = TestHTTPClient(port: port, keepAlive: false, connectTimeout: .milliseconds(200))
            await #expect(throws: (any Error).self) { _ = try await refused.get("/health") }
            try await refused.shutdown()
            #expect(try await simulator.start() == port)
            simulator.refreshNow()
            let devices = try await http.get("/api/v1/fritzbox/devices", headers: fritzKey)
            #expect(devices.json?["items"]?.array?.first { $0["name"]?.string == "NAS" }?["status"]?.integer == 0)
            #expect(try await simulator.restart() == port)
            #expect(try await http.get("/health").status == 200)
        }
    }
}
