import Adapters
import BridgeCore
import Foundation
import Logging
import Simulators
import SourceKit
import Synchronization
import Testing
import TestSupport

/// A source clock shared with a simulator on manual time: a sleep (budget wait, backoff, retry
/// delay) moves both, so minutes of rate budget pass without waiting.
final class FritzTestClock: SourceClock {
    let simulator: FritzNetworkSimulator
    private let base = ContinuousClock.now
    private let offset = Mutex<Duration>(.zero)

    init(simulator: FritzNetworkSimulator) {
        self.simulator = simulator
    }

    var now: ContinuousClock.Instant { base + offset.withLock { $0 } }
    var wallClock: Date { simulator.now }

    func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        advance(by: duration)
        await Task.yield()
    }

    /// Moves the adapter's time and the simulator's together.
    func advance(by duration: Duration) {
        offset.withLock { $0 += duration }
        simulator.advance(by: duration)
    }
}

/// The Fritz!Box network adapter against its simulator over real loopback sockets.
@Suite("FritzNetworkAdapter against the simulator", .serialized)
struct FritzNetworkAdapterTests {
    enum Credentials {
        case apiKey(String)
        case login(username: String, password: String)
    }

    static func source(
        _ url: String, credentials: Credentials = .apiKey(FritzNetworkSimulator.demoAPIKey), requestsPerMinute: Int = 10,
        timeout: Duration = .seconds(5)
    ) -> SourceConfiguration {
        var options: [String: ConfigValue] = ["requests_per_minute": .int(requestsPerMinute)]
        switch credentials {
        case .apiKey(let key): options["api_key"] = .secret(Secret(key))
        case .login(let username, let password):
            options["username"] = .string(username)
            options["password"] = .secret(Secret(password))
        }
        return SourceConfiguration(id: "fritz", type: .fritzNetwork, url: URL(string: url), timeout: timeout, options: options)
    }

    func withAdapter<T: Sendable>(
        _ configuration: FritzNetworkSimulator.Configuration = .init(seed: 3, timeMode: .manual),
        credentials: Credentials = .apiKey(FritzNetworkSimulator.demoAPIKey),
        requestsPerMinute: Int = 10,
        timeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "test"),
        _ body: @Sendable (FritzNetworkSimulator, FritzNetworkAdapter, FritzTestClock) async throws -> T
    ) async throws -> T {
        let simulator = FritzNetworkSimulator(configuration: configuration)
        let port = try await simulator.start()
        let pool = HTTPClientPool()
        let clock = FritzTestClock(simulator: simulator)
        do {
            let adapter = try FritzNetworkAdapter(
                configuration: Self.source(
                    "http://127.0.0.1:\(port)", credentials: credentials, requestsPerMinute: requestsPerMinute, timeout: timeout),
                pool: pool, logger: logger, clock: clock)
            let result = try await body(simulator, adapter, clock)
            await pool.shutdown()
            await simulator.stop()
            return result
        } catch {
            await pool.shutdown()
            await simulator.stop()
            throw error
        }
    }

    @Test("API key: every endpoint reads the API's own document; requests carry X-API-Key and no login is sent")
    func documents() async throws {
        try await withAdapter { simulator, adapter, clock in
            let wan = try #require(try await adapter.read(endpoint: "wan"))
            #expect(wan["external_ip"]?.stringValue == simulator.state.cache?.wan.externalIP)
            #expect(wan["is_stale"]?.boolValue == false)
            #expect(wan["fetched_at"]?.stringValue != nil)
            let bandwidth = try #require(try await adapter.read(endpoint: "bandwidth"))
            #expect(bandwidth["bytes_sent"]?.numberValue == Double(simulator.state.cache?.wan.bytesSent ?? -1))
            let devices = try #require(try await adapter.read(endpoint: "devices"))
            let items = try #require(devices["items"]?.arrayValue)
            #expect(items.count == 12)
            #expect(devices["total_count"]?.numberValue == 12)
            let online = simulator.state.cache?.clients.filter(\.isOnline).count ?? -1
            #expect(devices["online_count"]?.numberValue == Double(online))
            #expect(items.contains { $0["name"]?.stringValue == #"evil/#+ "quoted""# })
            #expect(try await adapter.read(endpoint: "bandwidth_history") == nil, "no history in the first 2 minutes")
            clock.advance(by: .seconds(120))
            let history = try #require(try await adapter.read(endpoint: "bandwidth_history"))
            #expect(history["items"]?.arrayValue?.isEmpty == false)
            #expect(history["limit"]?.numberValue == 60)
            #expect(try await adapter.read(endpoint: "bandwidth_history") == nil, "not due again for 30 minutes")
            #expect(try await adapter.read(endpoint: "device_history") == nil, "not within a minute of the other history fetch")
            clock.advance(by: .seconds(62))
            let rows = try #require(try await adapter.read(endpoint: "device_history")?["items"]?.arrayValue)
            #expect(rows.count == simulator.state.refreshes * 12)
            #expect(try await adapter.read(endpoint: "health")?["status"]?.stringValue == "ok")
            await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "nope") }

            let sent = simulator.requests.all
            #expect(sent.count == 6)
            #expect(sent.allSatisfy { $0.headers["x-api-key"] == FritzNetworkSimulator.demoAPIKey })
            #expect(simulator.requests.count(path: "/auth/login") == 0)
            #expect(simulator.requests.requests(path: "/api/v1/fritzbox/devices").first?.query == "limit=1000&offset=0")
        }
    }

    @Test("JWT: one form login, Bearer requests; renewed before the 30-minute expiry; a 401 logs in again and resends")
    func jwtLogin() async throws {
        try await withAdapter(credentials: .login(username: "admin", password: "fritz-secret")) { simulator, adapter, clock in
            _ = try await adapter.read(endpoint: "wan")
            _ = try await adapter.read(endpoint: "bandwidth")
            #expect(simulator.state.logins == 1)
            let login = try #require(simulator.requests.requests(path: "/auth/login").first)
            #expect(login.headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(login.bodyString == "username=admin&password=fritz-secret")
            #expect(simulator.requests.requests(path: "/api/v1/fritzbox/wan").first?.headers["authorization"] == "Bearer ***")

            clock.advance(by: .seconds(29 * 60 + 30))
            _ = try await adapter.read(endpoint: "wan")
            #expect(simulator.state.logins == 2, "renewed a minute before exp, without a 401 first")
            #expect(!simulator.apiRequests.contains { $0.status == 401 })

            simulator.expireTokens()
            #expect(try await adapter.read(endpoint: "wan")?["is_connected"]?.boolValue == true)
            #expect(simulator.state.logins == 3)
            #expect(simulator.apiRequests.filter { $0.status == 401 }.count == 1, "one 401, then the resent request passed")
        }
    }

    @Test("wrong password or a revoked key: unauthorized, and no secret in the error")
    func badCredentials() async throws {
        try await withAdapter(credentials: .login(username: "admin", password: "wrong-horse")) { simulator, adapter, _ in
            let error = await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "wan") }
            #expect(error?.status == 401)
            #expect(!"\(String(describing: error))".contains("wrong-horse"))
            #expect(simulator.requests.count(path: "/api/v1/fritzbox/wan") == 0)
        }
        try await withAdapter { simulator, adapter, _ in
            simulator.revokeAPIKeys()
            let error = await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "wan") }
            #expect(error == .unauthorized)
            #expect(!"\(String(describing: error))".contains(FritzNetworkSimulator.demoAPIKey))
        }
    }

    @Test("secrets never reach a log line or an error: password, JWTs and API key, through failing and working logins")
    func secretsStayOut() async throws {
        let recorder = LogRecorder()
        let logger = Logger(label: "test") { _ in recorder }
        let errors = Mutex<[String]>([])
        try await withAdapter(credentials: .login(username: "admin", password: "wrong-horse"), logger: logger) { _, adapter, _ in
            do {
                _ = try await adapter.read(endpoint: "wan")
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        try await withAdapter(credentials: .login(username: "admin", password: "fritz-secret"), logger: logger) { simulator, adapter, _ in
            _ = try await adapter.read(endpoint: "wan")
            simulator.expireTokens()
            _ = try await adapter.read(endpoint: "devices")
            simulator.faults.activate(.httpError(500))
            do {
                _ = try await adapter.read(endpoint: "bandwidth")
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        try await withAdapter(logger: logger) { simulator, adapter, _ in
            simulator.revokeAPIKeys()
            do {
                _ = try await adapter.read(endpoint: "wan")
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        let text = (recorder.lines + errors.withLock { $0 }).joined(separator: "\n")
        #expect(errors.withLock { $0.count } == 3)
        #expect(recorder.lines.count >= 5, "the HTTP calls were logged")
        for secret in ["wrong-horse", "fritz-secret", "eyJ", FritzNetworkSimulator.demoAPIKey] {
            #expect(!text.contains(secret), "\(secret) leaked")
        }
    }

    @Test("a 429 with Retry-After backs off at least 60 s: no request reaches the server until then; then it recovers")
    func rateLimited() async throws {
        try await withAdapter { simulator, adapter, clock in
            simulator.forceRateLimit(times: 1)
            let error = await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "wan") }
            guard case .rateLimited(let pause) = error else {
                Issue.record("expected rateLimited, got \(String(describing: error))")
                return
            }
            #expect((pause ?? .zero) >= .seconds(60))
            #expect(await adapter.statistics().rateBudgetLeft == 0)
            let before = simulator.requests.all.count
            clock.advance(by: .seconds(59))
            await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "devices") }
            #expect(simulator.requests.all.count == before, "nothing sent during the backoff")
            clock.advance(by: .seconds(2))
            let readWan = try await adapter.read(endpoint: "wan")
            #expect(readWan != nil)
        }
    }

    @Test("a 429 as {\"error\": …} without Retry-After (real servers) also backs off 60 s")
    func plainRateLimited() async throws {
        try await withAdapter(.init(seed: 3, timeMode: .manual, quirks: [.plainRateLimitError])) { simulator, adapter, clock in
            simulator.forceRateLimit(times: 1)
            await #expect(throws: SourceError.rateLimited(retryAfter: .seconds(60))) { _ = try await adapter.read(endpoint: "wan") }
            #expect(await adapter.backoffLeft == .seconds(60))
            clock.advance(by: .seconds(60))
            let readWan = try await adapter.read(endpoint: "wan")
            #expect(readWan != nil)
        }
    }

    @Test("a 429 to the login closes the budget for 60 s too: no login storm")
    func loginRateLimited() async throws {
        try await withAdapter(credentials: .login(username: "admin", password: "fritz-secret")) { simulator, adapter, clock in
            simulator.forceRateLimit(times: 1)
            await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "wan") }
            #expect(await adapter.backoffLeft == .seconds(60))
            await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "wan") }
            #expect(simulator.requests.count(path: "/auth/login") == 1)
            clock.advance(by: .seconds(60))
            let readWan = try await adapter.read(endpoint: "wan")
            #expect(readWan != nil)
            #expect(simulator.state.logins == 1)
        }
    }

    @Test("one budget for the whole source: hammering every endpoint for 10 simulated minutes never exceeds 10 in any rolling minute, no 429")
    func budget() async throws {
        let clients = FritzNetworkClient.defaultNetwork + FritzNetworkClient.extra(150)
        let configuration = FritzNetworkSimulator.Configuration(seed: 3, timeMode: .manual, clients: clients, maxPageSize: 100)
        try await withAdapter(configuration, credentials: .login(username: "admin", password: "fritz-secret")) { simulator, adapter, clock in
            let start = simulator.now
            var delivered = 0
            var refused = 0
            while simulator.now.timeIntervalSince(start) < 600 {
                for endpoint in ["devices", "wan", "bandwidth", "bandwidth_history", "device_history"] {
                    do {
                        if try await adapter.read(endpoint: endpoint) != nil { delivered += 1 }
                    } catch SourceError.rateLimited {
                        refused += 1
                        clock.advance(by: .seconds(1))
                    }
                }
                simulator.expireTokens()  // logins count too
            }
            let records = simulator.apiRequests
            #expect(simulator.maxRequests(inAnyWindow: .seconds(60)) <= 10)
            #expect(!records.contains { $0.status == 429 })
            #expect(records.count >= 90, "the budget is used, not starved: \(records.count) requests")
            #expect(delivered > 0 && refused > 0)
            #expect(simulator.state.logins > 1)
        }
    }

    @Test("the derived schedule over 30 simulated minutes with JWT and 162 clients in 2 pages: within budget, no 429, devices every 31 s")
    func scheduleRun() async throws {
        let clients = FritzNetworkClient.defaultNetwork + FritzNetworkClient.extra(150)
        let configuration = FritzNetworkSimulator.Configuration(seed: 3, timeMode: .manual, clients: clients, maxPageSize: 100)
        try await withAdapter(configuration, credentials: .login(username: "admin", password: "fritz-secret")) { simulator, adapter, clock in
            let start = simulator.now
            var due = Dictionary(uniqueKeysWithValues: adapter.polls.map { ($0.endpoint, Duration.zero) })
            let interval = Dictionary(uniqueKeysWithValues: adapter.polls.map { ($0.endpoint, $0.interval) })
            var elapsed = Duration.zero
            var reads: [String: Int] = [:]
            while elapsed < .seconds(1_800) {
                guard let next = due.min(by: { ($0.value, $0.key) < ($1.value, $1.key) }) else { break }
                if next.value > elapsed {
                    clock.advance(by: next.value - elapsed)
                    elapsed = next.value
                }
                if try await adapter.read(endpoint: next.key) != nil { reads[next.key, default: 0] += 1 }
                due[next.key] = elapsed + (interval[next.key] ?? .seconds(60))
            }
            let records = simulator.apiRequests
            let minutes = simulator.now.timeIntervalSince(start) / 60
            #expect(simulator.maxRequests(inAnyWindow: .seconds(60)) <= 10)
            #expect(!records.contains { $0.status == 429 || $0.status == 401 })
            #expect(Double(records.count) / minutes <= 8.5, "mean \(Double(records.count) / minutes) requests a minute (2 pages)")
            #expect(reads["devices"] == 59 && reads["wan"] == 59, "\(reads)")
            #expect(reads["bandwidth_history"] == 1 && reads["device_history"] == 1)
            #expect(simulator.state.logins == 2, "one login, one renewal before the 30-minute expiry")
        }
    }

    @Test("paging: 150 extra clients on a server granting 100 a page are read in 2 requests, all 162 delivered")
    func paging() async throws {
        let clients = FritzNetworkClient.defaultNetwork + FritzNetworkClient.extra(150)
        try await withAdapter(.init(seed: 3, timeMode: .manual, clients: clients, maxPageSize: 100)) { simulator, adapter, _ in
            let devices = try #require(try await adapter.read(endpoint: "devices"))
            let items = try #require(devices["items"]?.arrayValue)
            #expect(items.count == 162)
            #expect(Set(items.compactMap { $0["mac"]?.stringValue }).count == 162)
            #expect(devices["total_count"]?.numberValue == 162)
            #expect(simulator.requests.requests(path: "/api/v1/fritzbox/devices").map(\.query) == ["limit=1000&offset=0", "limit=1000&offset=100"])
        }
    }

    @Test("router unreachable: devices fail with 503 (nothing delivered from stale data); WAN delivered with is_stale")
    func unreachable() async throws {
        try await withAdapter { simulator, adapter, _ in
            simulator.setRouterReachable(false)
            let error = await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "devices") }
            #expect(error?.status == 503)
            let readWan = try await adapter.read(endpoint: "wan")
            #expect(readWan?["is_stale"]?.boolValue == true)
        }
    }

    @Test("500 is retried once then reported; malformed JSON and a hanging server are errors; cleared, reads work again")
    func serverErrors() async throws {
        try await withAdapter(timeout: .milliseconds(500)) { simulator, adapter, _ in
            simulator.faults.activate(.httpError(500), on: .paths(["/api/v1/fritzbox/wan"]))
            let failed = await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "wan") }
            #expect(failed?.status == 500)
            #expect(simulator.requests.count(path: "/api/v1/fritzbox/wan") == 2, "one retry, from the same budget")
            simulator.faults.clear()

            simulator.faults.activate(.malformedJSON)
            let malformed = await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "bandwidth") }
            guard case .malformedResponse = malformed else {
                Issue.record("expected malformedResponse, got \(String(describing: malformed))")
                return
            }
            simulator.faults.clear()

            simulator.faults.activate(.timeout, on: .paths(["/api/v1/fritzbox/bandwidth"]))
            let timedOut = await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "bandwidth") }
            guard case .timeout = timedOut else {
                Issue.record("expected timeout, got \(String(describing: timedOut))")
                return
            }
            simulator.faults.clear()
            #expect(try await adapter.read(endpoint: "bandwidth") != nil)
            let readWan = try await adapter.read(endpoint: "wan")
            #expect(readWan != nil)
        }
    }

    @Test("an old server without /api/v1/fritzbox/: one 404, then the deprecated paths for good")
    func legacyPaths() async throws {
        try await withAdapter(.init(seed: 3, timeMode: .manual, quirks: [.noProviderNamespace])) { simulator, adapter, _ in
            #expect(try await adapter.read(endpoint: "wan")?["external_ip"] != nil)
            let devices = try #require(try await adapter.read(endpoint: "devices"))
            #expect(devices["items"]?.arrayValue?.first?["provider_type"]?.stringValue == "fritzbox")
            #expect(try await adapter.read(endpoint: "bandwidth") != nil)
            #expect(simulator.requests.all.map(\.path) == ["/api/v1/fritzbox/wan", "/api/v1/wan", "/api/v1/devices", "/api/v1/bandwidth"])
        }
    }

    @Test("real-server quirks: malformed fetched_at and empty MACs are delivered as the API sent them")
    func quirks() async throws {
        try await withAdapter(.init(seed: 3, timeMode: .manual, quirks: FritzNetworkSimulator.realServerQuirks)) { _, adapter, _ in
            #expect(try await adapter.read(endpoint: "wan")?["fetched_at"]?.stringValue?.hasSuffix("+00:00Z") == true)
            let items = try #require(try await adapter.read(endpoint: "devices")?["items"]?.arrayValue)
            let hidden = items.filter { $0["mac"]?.stringValue == "" }
            #expect(hidden.count == 2)
            #expect(hidden.allSatisfy { $0["id"] != nil && $0["id"] == $0["ip"] }, "no MAC: the IP is the id")
            #expect(items.filter { $0["mac"]?.stringValue != "" }.allSatisfy { $0["id"] == $0["mac"] })
        }
    }

    @Test("commands and actions fail with not_supported and send nothing")
    func commands() async throws {
        try await withAdapter { simulator, adapter, _ in
            let call = RenderedCall(method: "POST", path: "/api/v1/fritzbox/devices", body: .object(["x": .number(1)]))
            let executed = await #expect(throws: CommandFailure.self) { _ = try await adapter.execute(call) }
            #expect(executed?.code == .notSupported)
            let performed = await #expect(throws: CommandFailure.self) {
                _ = try await adapter.perform(action: "reboot", value: .null, childKey: nil)
            }
            #expect(performed?.code == .notSupported)
            #expect(performed?.message.contains("reboot") == true)
            #expect(simulator.requests.all.isEmpty)
        }
    }

    @Test("statistics report requests and the budget left in the rolling minute")
    func statistics() async throws {
        try await withAdapter { _, adapter, clock in
            #expect(await adapter.statistics().rateBudgetLeft == 10)
            _ = try await adapter.read(endpoint: "wan")
            _ = try await adapter.read(endpoint: "bandwidth")
            let statistics = await adapter.statistics()
            #expect(statistics.requests == 2)
            #expect(statistics.rateBudgetLeft == 8)
            clock.advance(by: .seconds(61))
            #expect(await adapter.statistics().rateBudgetLeft == 8, "the window is 62 s: a margin over the server's minute")
            clock.advance(by: .seconds(2))
            #expect(await adapter.statistics().rateBudgetLeft == 10)
        }
    }

    @Test("the schedule follows the budget: devices and WAN often, history rarely, 60 % of the budget planned")
    func schedule() {
        for perMinute in [1, 2, 4, 10, 30, 600] {
            let polls = FritzNetworkAdapter.schedule(requestsPerMinute: perMinute)
            let history = FritzNetworkAdapter.historyIntervals(requestsPerMinute: perMinute)
            var interval = Dictionary(uniqueKeysWithValues: polls.map { ($0.endpoint, $0.interval) })
            interval.merge(history) { _, fetch in fetch }
            #expect(Set(polls.map(\.endpoint)) == ["devices", "wan", "bandwidth", "bandwidth_history", "device_history"])
            let perMinuteSpent = interval.values.map { 60 / Double($0.components.seconds) }.reduce(0, +)
            #expect(perMinuteSpent <= Double(perMinute) * 0.6 + 1e-9, "\(perMinute): \(perMinuteSpent)")
            #expect(interval["devices"] == interval["wan"])
            #expect((interval["devices"] ?? .zero) >= .seconds(30))
            #expect((interval["bandwidth_history"] ?? .zero) >= .seconds(1_800))
            #expect((interval["device_history"] ?? .zero) >= .seconds(3_600))
            #expect((interval["devices"] ?? .zero) < (interval["bandwidth_history"] ?? .zero))
        }
        let ten = FritzNetworkAdapter.schedule(requestsPerMinute: 10)
        #expect(ten.first { $0.endpoint == "devices" }?.interval == .seconds(31))
    }
}
