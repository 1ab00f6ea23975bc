@testable import Adapters
import BridgeCore
import Foundation
import Logging
import Simulators
import SourceKit
import Synchronization
import Testing
import TestSupport

/// The FlowerHub adapter against its simulator over real loopback sockets.
@Suite("FlowerHubAdapter against the simulator", .serialized)
struct FlowerHubAdapterTests {
    /// 2026-03-14T10:00:00Z.
    static let start = Date(timeIntervalSince1970: 1_773_482_400)
    static let allEndpoints = [
        "asset", "uptime", "uptime_history", "uptime_months", "consumption", "asset_owner", "agreement", "invoices", "profile",
    ]

    static func simulatorConfiguration(quirks: Set<Quirk> = []) -> FlowerHubSimulator.Configuration {
        FlowerHubSimulator.Configuration(seed: 11, tickInterval: nil, startDate: start, quirks: quirks)
    }

    static func source(_ url: String, password: String? = nil, timeout: Duration = .seconds(10)) -> SourceConfiguration {
        SourceConfiguration(
            id: "flowerhub", type: .flowerhub, url: URL(string: url), timeout: timeout,
            options: [
                "username": .string(FlowerHubSimulator.Account().username),
                "password": .secret(Secret(password ?? FlowerHubSimulator.Account().password)),
                "poll_interval": .duration(.seconds(60)),
            ])
    }

    func withAdapter<T: Sendable>(
        _ configuration: FlowerHubSimulator.Configuration = simulatorConfiguration(),
        password: String? = nil,
        timeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "test"),
        _ body: @Sendable (FlowerHubSimulator, FlowerHubAdapter) async throws -> T
    ) async throws -> T {
        let simulator = FlowerHubSimulator(configuration: configuration)
        let port = try await simulator.start()
        let pool = HTTPClientPool()
        do {
            let adapter = try FlowerHubAdapter(
                configuration: Self.source("http://127.0.0.1:\(port)", password: password, timeout: timeout), pool: pool, logger: logger)
            let result = try await body(simulator, adapter)
            await pool.shutdown()
            await simulator.stop()
            return result
        } catch {
            await pool.shutdown()
            await simulator.stop()
            throw error
        }
    }

    // MARK: Documents

    @Test("every endpoint reads its document, unchanged; one login; Origin and the Secure cookies on every request over http")
    func documents() async throws {
        try await withAdapter { simulator, adapter in
            var documents: [String: JSONValue] = [:]
            for endpoint in Self.allEndpoints {
                let document: JSONValue? = try await adapter.read(endpoint: endpoint)
                let value: JSONValue = try #require(document, "\(endpoint)")
                documents[endpoint] = value
            }
            #expect(documents["asset"]?["flowerHubStatus"]?["status"] == "Connected")
            #expect(documents["asset"]?["battery"]?["energyCapacity"]?.numberValue == 12.8)
            #expect(documents["asset_owner"]?["asset"]?["serialNumber"]?.stringValue == FlowerHubSimulator.Account().serialNumber)
            #expect(documents["uptime"]?.arrayValue?.map { $0["name"]?.stringValue } == ["uptime", "downtime", "noData"])
            #expect(documents["uptime_history"]?.arrayValue?.last?["date"] == "2026-03")
            #expect(documents["uptime_months"]?.arrayValue?.last?["value"] == "2026-03")
            #expect(documents["consumption"]?.arrayValue?.last?["type"] == "Calculated")
            #expect(documents["invoices"]?.arrayValue?.first?["total_amount"]?.stringValue == simulator.state.latestInvoiceAmount)
            #expect(documents["agreement"]?["consumption"]?["stateCategory"] == "Active")
            #expect(documents["profile"]?["accountStatus"] == "Verified")

            #expect(simulator.state.logins == 1)
            let requests = simulator.requests.all
            #expect(requests.allSatisfy { $0.headers["origin"] == FlowerHubAdapter.origin })
            let login = try #require(requests.first)
            #expect(login.method == "POST" && login.path == "/auth/login")
            let loginBody = try JSONValue.parse(login.body)
            #expect(loginBody["username"]?.stringValue == FlowerHubSimulator.Account().username)
            #expect(requests.dropFirst().allSatisfy { $0.headers["cookie"]?.contains("Authentication=") == true && $0.headers["cookie"]?.contains("Refresh=") == true })
            #expect(requests.contains { $0.path == "/asset-owner/1234/withAssetId" })
        }
    }

    @Test("uptime: the newer /asset-effective-uptime path first, /asset-uptime after its 404, and that choice is kept")
    func uptimeFallback() async throws {
        try await withAdapter { simulator, adapter in
            _ = try await adapter.read(endpoint: "uptime")
            #expect(simulator.requests.count(path: "/asset-effective-uptime/available-months/5678") == 1)
            #expect(simulator.requests.count(path: "/asset-uptime/available-months/5678") == 1)
            let pie = try #require(simulator.requests.requests(path: "/asset-uptime/pie-chart/5678").first)
            #expect(pie.query == "period=2026-03", "the portal's current month, not this machine's")
            simulator.requests.clear()
            _ = try await adapter.read(endpoint: "uptime_history")
            #expect(simulator.requests.all.map(\.path) == ["/asset-uptime/bar-chart/history/5678"])
        }
        try await withAdapter(Self.simulatorConfiguration(quirks: [.effectiveUptimeOnly])) { simulator, adapter in
            let read: JSONValue? = try await adapter.read(endpoint: "uptime_history")
            let history = try #require(read)
            #expect(history.arrayValue?.isEmpty == false)
            #expect(simulator.requests.count(path: "/asset-uptime/bar-chart/history/5678") == 0)
            #expect(simulator.requests.count(path: "/asset-effective-uptime/bar-chart/history/5678") == 1)
        }
    }

    @Test("the month list is delivered once even when the pie's period lookup read it first; again when a month is added")
    func monthList() async throws {
        try await withAdapter { simulator, adapter in
            _ = try await adapter.read(endpoint: "uptime")
            let first: JSONValue? = try await adapter.read(endpoint: "uptime_months")
            let months = try #require(first, "not swallowed by the lookup's ETag")
            #expect(months.arrayValue?.last?["value"] == "2026-03")
            let again = try await adapter.read(endpoint: "uptime_months")
            #expect(again == nil, "unchanged")
            simulator.advance(by: .seconds(18 * 86_400))
            simulator.expireSession()
            let next: JSONValue? = try await adapter.read(endpoint: "uptime_months")
            #expect(next?.arrayValue?.last?["value"] == "2026-04")
        }
    }

    @Test("the real portal's quirks (both refresh shapes, effective uptime only, no ETags, Origin required) read fine")
    func realPortal() async throws {
        var quirks = FlowerHubSimulator.realPortalQuirks
        quirks.remove(.periodicRateLimit)
        try await withAdapter(Self.simulatorConfiguration(quirks: quirks)) { simulator, adapter in
            for endpoint in Self.allEndpoints {
                let document = try await adapter.read(endpoint: endpoint)
                #expect(document != nil, "\(endpoint)")
            }
            for _ in 0..<3 {
                simulator.expireAccessCookies()
                let document = try await adapter.read(endpoint: "asset")
                #expect(document != nil, "a document every time: no ETags, no 304")
            }
            #expect(simulator.state.refreshes == 3)
            #expect(simulator.state.logins == 1)
            #expect(simulator.state.notModifiedResponses == 0)
        }
    }

    @Test("ETags: the second read of an unchanged document is a 304, delivered as nil; a changed one comes again")
    func notModified() async throws {
        try await withAdapter { simulator, adapter in
            let first = try await adapter.read(endpoint: "profile")
            let second = try await adapter.read(endpoint: "profile")
            #expect(first != nil)
            #expect(second == nil)
            let conditional = try #require(simulator.requests.requests(path: "/asset-owner/1234/profile").last)
            #expect(conditional.headers["if-none-match"]?.hasPrefix("W/") == true)
            #expect(simulator.state.notModifiedResponses == 1)
            _ = try await adapter.read(endpoint: "consumption")
            simulator.advance(by: .seconds(600))
            let read: JSONValue? = try await adapter.read(endpoint: "consumption")
            let consumption = try #require(read, "this month's consumption grew")
            #expect(consumption.arrayValue?.last?["volume"]?.stringValue != "0.00")
        }
    }

    // MARK: Auth

    @Test("the access cookie expiring: one refresh, no login, the document still comes")
    func accessExpiry() async throws {
        try await withAdapter { simulator, adapter in
            _ = try await adapter.read(endpoint: "asset")
            simulator.expireAccessCookies()
            simulator.forceStatus(.disconnected)
            let read: JSONValue? = try await adapter.read(endpoint: "asset")
            let asset = try #require(read)
            #expect(asset["flowerHubStatus"]?["status"] == "Disconnected")
            #expect(simulator.state.refreshes == 1)
            #expect(simulator.state.logins == 1)
        }
    }

    @Test("the cookies' Max-Age passing: one refresh (access cookie) or one login (refresh cookie too) before the next requests, no 401; 304s still work")
    func refreshBeforeExpiredCookie() async throws {
        let simulator = FlowerHubSimulator(configuration: Self.simulatorConfiguration())
        let port = try await simulator.start()
        let pool = HTTPClientPool()
        let clock = FlowerHubTestClock(simulator: simulator)
        do {
            let adapter = try FlowerHubAdapter(
                configuration: Self.source("http://127.0.0.1:\(port)"), pool: pool, logger: Logger(label: "test"), clock: clock)
            _ = try await adapter.read(endpoint: "asset")
            for _ in 1...8 {
                clock.advance(by: .seconds(15 * 60))  // exactly the access cookie's lifetime
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for endpoint in ["asset", "uptime_history", "consumption"] {
                        group.addTask { _ = try await adapter.read(endpoint: endpoint) }
                    }
                    try await group.waitForAll()
                }
            }
            let state = simulator.state
            #expect(state.unauthorizedRequests == 0)
            #expect(state.refreshes == 8)
            #expect(state.logins == 1)
            #expect(state.notModifiedResponses > 0)
            #expect(simulator.requests.count(path: "/asset/5678") == 9)
            // The refresh cookie's Max-Age (a week) passing too: one login first, no refused refresh, no 401.
            clock.advance(by: .seconds(7 * 86_400))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for endpoint in ["asset", "uptime_history", "consumption"] {
                    group.addTask { _ = try await adapter.read(endpoint: endpoint) }
                }
                try await group.waitForAll()
            }
            #expect(simulator.state.logins == 2)
            #expect(simulator.state.refreshes == 8)
            #expect(simulator.state.failedRefreshes == 0)
            #expect(simulator.state.unauthorizedRequests == 0)
        } catch {
            await pool.shutdown()
            await simulator.stop()
            throw error
        }
        await pool.shutdown()
        await simulator.stop()
    }

    @Test("the pie's period comes from the hourly month list: the pie does not read the list again while that read keeps it fresh")
    func periodFromScheduledMonthList() async throws {
        let simulator = FlowerHubSimulator(configuration: Self.simulatorConfiguration())
        let port = try await simulator.start()
        let pool = HTTPClientPool()
        let clock = FlowerHubTestClock(simulator: simulator)
        let months = "/asset-uptime/available-months/5678"
        do {
            let adapter = try FlowerHubAdapter(
                configuration: Self.source("http://127.0.0.1:\(port)"), pool: pool, logger: Logger(label: "test"), clock: clock)
            _ = try await adapter.read(endpoint: "uptime_months")
            _ = try await adapter.read(endpoint: "uptime")
            #expect(simulator.requests.count(path: months) == 1)
            for minute in 1...180 {
                clock.advance(by: .seconds(60))
                // The pie first, at the hour too: its period is an hour old then.
                _ = try await adapter.read(endpoint: "uptime")
                if minute % 60 == 0 { _ = try await adapter.read(endpoint: "uptime_months") }
            }
            #expect(simulator.requests.count(path: months) == 4, "one scheduled read an hour, none for the pie")
            // The scheduled read failing for two hours: the pie reads the list itself.
            clock.advance(by: .seconds(2 * 3600))
            _ = try await adapter.read(endpoint: "uptime")
            #expect(simulator.requests.count(path: months) == 5)
        } catch {
            await pool.shutdown()
            await simulator.stop()
            throw error
        }
        await pool.shutdown()
        await simulator.stop()
    }

    @Test("concurrent reads meeting one expiry share one refresh")
    func concurrentExpiry() async throws {
        try await withAdapter { simulator, adapter in
            _ = try await adapter.read(endpoint: "asset")
            simulator.expireAccessCookies()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for endpoint in Self.allEndpoints {
                    group.addTask { _ = try await adapter.read(endpoint: endpoint) }
                }
                try await group.waitForAll()
            }
            #expect(simulator.state.refreshes == 1)
            #expect(simulator.state.logins == 1)
        }
    }

    @Test("the refresh cookie expiring: the refused refresh is followed by one login")
    func refreshExpiry() async throws {
        try await withAdapter { simulator, adapter in
            _ = try await adapter.read(endpoint: "asset")
            simulator.expireSession()
            _ = try await adapter.read(endpoint: "asset")
            #expect(simulator.state.failedRefreshes == 1)
            #expect(simulator.state.refreshes == 0)
            #expect(simulator.state.logins == 2)
        }
    }

    @Test("many expiries over simulated days: each costs one refresh or one login, nothing more")
    func boundedSessionWork() async throws {
        try await withAdapter { simulator, adapter in
            _ = try await adapter.read(endpoint: "asset")
            for hour in 1...48 {
                simulator.advance(by: .seconds(3600))
                if hour % 24 == 0 { simulator.expireSession() }
                _ = try await adapter.read(endpoint: "asset")  // a document, or nil for 304: no error either way
            }
            // The access cookie lasts 15 minutes: every hourly read refreshes, except after the two forced expiries.
            #expect(simulator.state.logins == 3)
            #expect(simulator.state.refreshes == 46)
            #expect(simulator.state.failedRefreshes == 2)
        }
    }

    @Test("wrong password: unauthorized after one login; later reads fail at once without a request (no login storm)")
    func refusedLogin() async throws {
        try await withAdapter(password: "wrong-password-1234") { simulator, adapter in
            await #expect(throws: SourceError.unauthorized) { try await adapter.read(endpoint: "asset") }
            let sent = simulator.requests.all.count
            for endpoint in Self.allEndpoints {
                await #expect(throws: SourceError.unauthorized) { try await adapter.read(endpoint: endpoint) }
            }
            #expect(simulator.state.failedLogins == 1)
            #expect(simulator.requests.all.count == sent)
        }
    }

    @Test("a 401 that neither refresh nor login cures: one refresh, one login, then an auth error; the next read sends only itself")
    func uselessLogin() async throws {
        try await withAdapter { simulator, adapter in
            _ = try await adapter.read(endpoint: "asset")
            simulator.faults.activate(.unauthorized, on: .paths(["/asset/5678"]))
            await #expect(throws: SourceError.unauthorized) { try await adapter.read(endpoint: "asset") }
            #expect(simulator.state.refreshes == 1)
            #expect(simulator.state.logins == 2)
            simulator.requests.clear()
            await #expect(throws: SourceError.unauthorized) { try await adapter.read(endpoint: "asset") }
            #expect(simulator.requests.all.map(\.path) == ["/asset/5678"])
            #expect(simulator.state.logins == 2)
        }
    }

    @Test("neither the password nor any cookie value reaches a log line, through login, refresh, re-login and failures")
    func noSecretsLogged() async throws {
        let recorder = LogRecorder()
        let logger = Logger(label: "test") { _ in recorder }
        try await withAdapter(logger: logger) { simulator, adapter in
            _ = try await adapter.read(endpoint: "asset")
            simulator.expireAccessCookies()
            _ = try await adapter.read(endpoint: "asset")
            simulator.expireSession()
            _ = try await adapter.read(endpoint: "asset")
            simulator.faults.activate(.httpError(500))
            _ = try? await adapter.read(endpoint: "profile")
            let cookies = simulator.requests.all.compactMap { $0.headers["cookie"] }
                .flatMap { $0.split(separator: ";") }
                .compactMap { $0.split(separator: "=", maxSplits: 1).last.map(String.init) }
            #expect(cookies.count > 4)
            let text = recorder.lines.joined(separator: "\n")
            #expect(!recorder.lines.isEmpty)
            #expect(!text.contains(FlowerHubSimulator.Account().password))
            for cookie in Set(cookies) { #expect(!text.contains(cookie)) }
        }
    }

    // MARK: Errors

    @Test("429: the read fails with rate limited, and nothing is sent before Retry-After")
    func rateLimited() async throws {
        try await withAdapter { simulator, adapter in
            _ = try await adapter.read(endpoint: "asset")
            simulator.rateLimit(for: .seconds(120))
            do {
                _ = try await adapter.read(endpoint: "asset")
                Issue.record("expected a 429")
            } catch let error as SourceError {
                guard case .rateLimited(let retryAfter) = error else { throw error }
                #expect(retryAfter == .seconds(120))
            }
            let sent = simulator.requests.all.count
            for endpoint in Self.allEndpoints {
                await #expect(throws: SourceError.self) { try await adapter.read(endpoint: endpoint) }
            }
            #expect(simulator.requests.all.count == sent, "the budget stays closed until Retry-After")
            #expect(simulator.state.requestsWhileRateLimited == 0)
        }
    }

    @Test("the portal's periodic 429s: reads fail with rate limited now and then, and no request lands inside a Retry-After window")
    func periodicRateLimits() async throws {
        var configuration = Self.simulatorConfiguration(quirks: [.periodicRateLimit])
        configuration.rateLimitEvery = 4
        configuration.rateLimitRetryAfter = .seconds(1)
        try await withAdapter(configuration) { simulator, adapter in
            var documents = 0
            var limited = 0
            while documents < 8 {
                do {
                    _ = try await adapter.read(endpoint: "asset")
                    documents += 1
                } catch let error as SourceError {
                    guard case .rateLimited(let retryAfter) = error else { throw error }
                    limited += 1
                    // Pacing only: the next read would fail locally until then anyway.
                    try await Task.sleep(for: retryAfter ?? .seconds(1))
                }
            }
            #expect(limited >= 2)
            #expect(simulator.state.rateLimitedResponses == limited)
            #expect(simulator.state.requestsWhileRateLimited == 0)
        }
    }

    @Test("500, malformed JSON, timeout and a portal that is down each fail the read with their error")
    func failures() async throws {
        try await withAdapter(timeout: .seconds(3)) { simulator, adapter in
            _ = try await adapter.read(endpoint: "asset")
            simulator.faults.activate(.httpError(500))
            await #expect(throws: SourceError.unavailable(status: 500, message: nil)) { try await adapter.read(endpoint: "asset") }
            #expect(simulator.requests.count(path: "/asset/5678") == 4, "one read and two retries, then the error")
            simulator.faults.clear()

            simulator.faults.activate(.malformedJSON)
            do {
                _ = try await adapter.read(endpoint: "profile")
                Issue.record("expected malformed JSON")
            } catch let error as SourceError {
                guard case .malformedResponse = error else { throw error }
            }
            simulator.faults.clear()

            simulator.faults.activate(.timeout, on: .paths(["/asset-owner/1234/electricity-agreement"]))
            do {
                _ = try await adapter.read(endpoint: "agreement")
                Issue.record("expected a timeout")
            } catch let error as SourceError {
                guard case .timeout = error else { throw error }
            }
            simulator.faults.clear()

            await simulator.stopAbruptly()
            await #expect(throws: SourceError.self) { try await adapter.read(endpoint: "asset") }
            try await simulator.start()
            _ = try await adapter.read(endpoint: "asset")  // back, without a new login
            #expect(simulator.state.logins == 1)
        }
    }

    // MARK: Commands and configuration

    @Test("commands: any call or action is not_supported and sends nothing")
    func commands() async throws {
        try await withAdapter { simulator, adapter in
            do throws(CommandFailure) {
                _ = try await adapter.execute(RenderedCall(method: "POST", path: "/asset/5678", body: ["x": 1]))
                Issue.record("expected a failure")
            } catch {
                #expect(error.code == .notSupported)
                #expect(error.message.contains("read-only"))
            }
            do throws(CommandFailure) {
                _ = try await adapter.perform(action: "restart", value: true, childKey: nil)
                Issue.record("expected a failure")
            } catch {
                #expect(error.code == .notSupported)
            }
            #expect(simulator.requests.all.isEmpty)
            await #expect(throws: SourceError.notSupported("endpoint 'battery' of flowerhub")) { try await adapter.read(endpoint: "battery") }
            #expect(simulator.requests.all.isEmpty, "an unknown endpoint does not even log in")
        }
    }

    @Test("Secure cookies go back over https and to loopback http (a local simulator), never to another plain-http host")
    func secureCookies() {
        let session = FlowerHubSession(username: Credential("u"), password: Credential("p"), logger: Logger(label: "test"))
        let now = Date()
        for host in ["api.portal.flowerhub.se", "127.0.0.1"] {
            session.jar.store(setCookieHeaders: ["Authentication=a-\(host); Path=/; HttpOnly; Secure; SameSite=None"], host: host, path: "/auth/login", now: now)
        }
        #expect(session.jar.cookieHeader(host: "api.portal.flowerhub.se", path: "/asset/1", secure: true, now: now) == "Authentication=a-api.portal.flowerhub.se")
        #expect(session.jar.cookieHeader(host: "api.portal.flowerhub.se", path: "/asset/1", secure: false, now: now) == nil)
        #expect(session.jar.cookieHeader(host: "127.0.0.1", path: "/asset/1", secure: false, now: now) == "Authentication=a-127.0.0.1")
    }

    @Test("the owner id comes from the login's user, or a refresh's user at top level or under `user`")
    func ownerIdShapes() {
        #expect(FlowerHubAdapter.ownerId(from: ["user": ["id": 1, "assetOwnerId": 1234], "refreshTokenExpirationDate": "x"]) == 1234)
        #expect(FlowerHubAdapter.ownerId(from: ["id": 1, "assetOwnerId": 99]) == 99)
        #expect(FlowerHubAdapter.ownerId(from: ["id": 1]) == nil)
        #expect(FlowerHubAdapter.ownerId(from: ["assetOwnerId": "1234"]) == nil)
    }

    @Test("the portal's address (the default url) reads from its API host; poll schedules: status fast, slow data rarely")
    func configuration() async throws {
        let pool = HTTPClientPool()
        let adapter = try FlowerHubAdapter(configuration: Self.source("https://portal.flowerhub.se"), pool: pool, logger: Logger(label: "test"))
        #expect(adapter.client.configuration.baseURL.description.hasPrefix("https://api.portal.flowerhub.se"))
        let intervals = Dictionary(uniqueKeysWithValues: adapter.polls.map { ($0.endpoint, $0.interval) })
        #expect(Set(intervals.keys) == Set(Self.allEndpoints))
        #expect(FlowerHubAdapter.endpoints == Set(Self.allEndpoints))
        #expect(intervals["asset"] == .seconds(60))
        #expect(intervals["uptime"] == .seconds(60))
        for slow in ["invoices", "agreement", "profile", "asset_owner"] {
            #expect(intervals[slow].map { $0 >= .seconds(6 * 3600) } == true, "\(slow)")
        }
        #expect(intervals["consumption"] == .seconds(3600))
        #expect(throws: CommandFailure.self) {
            try FlowerHubAdapter(
                configuration: SourceConfiguration(id: "f", type: .flowerhub, url: URL(string: "https://x"), options: [:]), pool: pool,
                logger: Logger(label: "test"))
        }
        await pool.shutdown()
    }
}

/// The adapter's clock moving together with the simulator's: its wall clock is the portal's, so
/// cookie lifetimes pass on both sides at once.
final class FlowerHubTestClock: SourceClock {
    let simulator: FlowerHubSimulator
    private let base = ContinuousClock.now
    private let offset = Mutex<Duration>(.zero)

    init(simulator: FlowerHubSimulator) {
        self.simulator = simulator
    }

    var now: ContinuousClock.Instant { base + offset.withLock { $0 } }
    var wallClock: Date { simulator.state.now }

    func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        advance(by: duration)
        await Task.yield()
    }

    func advance(by duration: Duration) {
        offset.withLock { $0 += duration }
        simulator.advance(by: duration)
    }
}
