import BridgeCore
import Foundation
import Simulators

extension FritzNetworkSimulator.Configuration {
    /// A simulator on a free port on manual time (tests move it), a generous rate limit unless told.
    static func test(
        rateLimit: Int = 1_000,
        clients: [FritzNetworkClient] = FritzNetworkClient.defaultNetwork,
        maxPageSize: Int = 1_000,
        quirks: Set<Quirk> = [],
        seed: UInt64 = 42
    ) -> Self {
        FritzNetworkSimulator.Configuration(
            port: 0, seed: seed, tickInterval: .seconds(5), timeMode: .manual, clients: clients,
            rateLimit: rateLimit, maxPageSize: maxPageSize, quirks: quirks)
    }
}

/// Starts a Fritz!Box simulator and a client for it, runs `body`, and always stops both.
func withFritz<T>(
    _ configuration: FritzNetworkSimulator.Configuration = .test(),
    keepAlive: Bool = true,
    _ body: (FritzNetworkSimulator, TestHTTPClient) async throws -> T
) async throws -> T {
    let simulator = FritzNetworkSimulator(configuration: configuration)
    let port = try await simulator.start()
    let http = TestHTTPClient(port: port, keepAlive: keepAlive)
    let outcome: Result<T, any Error>
    do {
        outcome = .success(try await body(simulator, http))
    } catch {
        outcome = .failure(error)
    }
    await simulator.stop()
    try await http.shutdown()
    return try outcome.get()
}

/// The demo API key header every default configuration accepts.
let fritzKey = ["X-API-Key": FritzNetworkSimulator.demoAPIKey]

extension TestHTTPClient {
    /// Logs in with the default credentials and returns the bearer header.
    func fritzLogin(username: String = "admin", password: String = "fritz-secret") async throws -> [String: String] {
        let answer = try await send(
            "POST", "/auth/login", body: "username=\(username)&password=\(password)",
            headers: ["Content-Type": "application/x-www-form-urlencoded"])
        guard answer.status == 200, let token = answer.json?["access_token"]?.string else { throw FritzLoginFailed(status: answer.status) }
        return ["Authorization": "Bearer \(token)"]
    }
}

struct FritzLoginFailed: Error {
    let status: Int
}

/// The member names of a device item.
let fritzDeviceKeys: Set<String> = ["ip", "name", "mac", "status"]
/// The member names of the bandwidth document.
let fritzBandwidthKeys: Set<String> = ["upstream_bps", "downstream_bps", "bytes_sent", "bytes_received", "is_stale", "fetched_at"]
/// The member names of the WAN document.
let fritzWANKeys: Set<String> = [
    "external_ip", "is_connected", "is_linked", "uptime", "max_upstream_bps", "max_downstream_bps", "is_stale", "fetched_at",
]
/// The member names of an RFC 9457 problem.
let problemKeys: Set<String> = ["type", "title", "status", "detail", "instance"]
