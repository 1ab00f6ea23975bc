import BridgeCore
import Foundation
import NIOCore
import Simulators
import Testing

/// The shared fault plan on the FlowerHub simulator, over real sockets.
@Suite("FlowerHub simulator: faults")
struct FlowerHubFaultTests {
    @Test("httpError answers that status on its paths only; the login is not needed for it")
    func httpError() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            let asset = "/asset/\(client.asset)"
            simulator.faults.activate(.httpError(500), on: .paths([asset]))
            let failed = try await client.get(asset)
            #expect(failed.status == 500)
            #expect(try await client.get("/asset-owner/\(client.owner)").status == 200)
            simulator.faults.clear()
            #expect(try await client.get(asset).status == 200)
            simulator.faults.activate(.httpError(503))
            #expect(try await client.login().status == 503)
        }
    }

    @Test("unauthorized answers 401 even with a valid cookie (what an expired session looks like)")
    func unauthorized() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            simulator.faults.activate(.unauthorized)
            #expect(try await client.get("/asset/\(client.asset)").status == 401)
            simulator.faults.deactivate(.unauthorized)
            #expect(try await client.get("/asset/\(client.asset)").status == 200)
        }
    }

    @Test("malformedJSON truncates documents so they no longer parse")
    func malformed() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            simulator.faults.activate(.malformedJSON)
            for path in ["/asset/\(client.asset)", "/asset-owner/\(client.owner)/invoice"] {
                let broken = try await client.get(path)
                #expect(broken.status == 200)
                #expect(!broken.body.isEmpty)
                #expect(broken.json == nil, "\(path)")
            }
            simulator.faults.clear()
            #expect(try await client.get("/asset/\(client.asset)").json != nil)
        }
    }

    @Test("timeout hangs the request until switched off; slow delays it")
    func timeoutAndSlow() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            let asset = "/asset/\(client.asset)"
            simulator.faults.activate(.timeout, on: .paths([asset]))
            let hanging = PendingAnswer { try await client.get(asset) }
            defer { hanging.cancel() }
            try await eventually("the hanging request to arrive") { simulator.requests.count(path: asset) == 1 }
            #expect(try await client.get("/asset-owner/\(client.owner)").status == 200)
            #expect(!hanging.isFinished)
            simulator.faults.deactivate(.timeout)
            #expect(try await hanging.result().status == 200)

            simulator.faults.activate(.slow(.milliseconds(50)))
            #expect(try await client.get(asset).status == 200)
        }
    }

    @Test("down: stopAbruptly refuses connections; start() comes back on the same port and the session still holds")
    func down() async throws {
        try await withFlowerHub(keepAlive: false) { simulator, client in
            try await client.login()
            let port = try #require(simulator.port)
            await simulator.stopAbruptly()
            let probe = TestHTTPClient(port: port, keepAlive: false, connectTimeout: .seconds(1))
            await #expect(throws: (any Error).self) { try await probe.get("/asset/1") }
            try await probe.shutdown()
            #expect(try await simulator.start() == port)
            #expect(try await client.get("/asset/\(client.asset)").status == 200)
            #expect(try await simulator.restart() == port)
            #expect(try await client.get("/asset/\(client.asset)").status == 200)
            #expect(simulator.state.logins == 1)
        }
    }

    @Test("the request log records the Origin, the cookies sent and the query")
    func requestLog() async throws {
        try await withFlowerHub { simulator, client in
            try await client.login()
            _ = try await client.get("/asset-uptime/pie-chart/\(client.asset)?period=2026-03")
            let last = try #require(simulator.requests.all.last)
            #expect(last.query == "period=2026-03")
            #expect(last.headers["origin"] == FlowerHubSimulator.portalOrigin)
            #expect(last.headers["cookie"]?.contains("Authentication=") == true)
            #expect(simulator.requests.count(method: "POST", path: "/auth/login") == 1)
        }
    }

    @Test("as a Service it serves until graceful shutdown")
    func service() async throws {
        let simulator = FlowerHubSimulator(configuration: .test())
        let task = Task { try await simulator.run() }
        try await eventually("the simulator to listen") { simulator.port != nil }
        let http = TestHTTPClient(port: try #require(simulator.port))
        #expect(try await http.get("/nothing").status == 404)
        try await http.shutdown()
        task.cancel()
        _ = await task.result
    }
}

/// A portal request started in the background.
final class PendingAnswer: Sendable {
    private let task: Task<PortalAnswer, any Error>
    private let flag = Flag()

    init(_ operation: @escaping @Sendable () async throws -> PortalAnswer) {
        let flag = flag
        task = Task {
            defer { flag.set() }
            return try await operation()
        }
    }

    var isFinished: Bool { flag.isSet }

    func result() async throws -> PortalAnswer {
        let task = task
        return try await withDeadline("the pending answer") { try await task.value }
    }

    func cancel() {
        task.cancel()
    }
}
