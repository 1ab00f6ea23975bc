import BridgeCore
import Logging
import SourceKit
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The Fritz!Box network API (`fritz_network`, contract: shared/apis/fritzbox-network.md, real-server
/// behaviour: FIELD-NOTES.md "Fritz!Box network API").
///
/// Endpoint names (what the mapping reads), the API path(s) behind each, and the document delivered:
///
/// | endpoint            | API path (fallback on a server without `/api/v1/fritzbox/`: 404)             | document |
/// |---------------------|-------------------------------------------------------------------------------|----------|
/// | `devices`           | `GET /api/v1/fritzbox/devices?limit=1000&offset=…`, every page (`/api/v1/devices`) | `{"items": [{"id", "ip", "name", "mac", "status": 0/1, ["provider_type"]}…], "total_count": n, "online_count": m}`: the pages' items joined in the API's order. The adapter adds two members: each item's `id` (its `mac`, or its `ip` when the MAC is empty, as FIELD-NOTES says to key clients) and `online_count` (items with `status == 1`). `mac` may be `""`; `provider_type` (legacy path only) may be null. |
/// | `wan`               | `GET /api/v1/fritzbox/wan` (`/api/v1/wan`)                                    | the API's document unchanged: `{"external_ip", "is_connected", "is_linked", "uptime" (s, 0 after reconnect/reboot), "max_upstream_bps", "max_downstream_bps", "is_stale", "fetched_at"}` |
/// | `bandwidth`         | `GET /api/v1/fritzbox/bandwidth` (`/api/v1/bandwidth`)                        | unchanged: `{"upstream_bps", "downstream_bps" (bit/s), "bytes_sent", "bytes_received" (since router boot: a reboot resets them), "is_stale", "fetched_at"}` |
/// | `bandwidth_history` | `GET /api/v1/fritzbox/history/bandwidth?hours=1&limit=60&offset=0` (`/api/v1/history/bandwidth`) | the first page unchanged (delivered only when a fetch went out: see ``schedule(requestsPerMinute:)``): `{"items": [{"timestamp" (Unix s), "bytes_sent", "bytes_received", "upstream_rate", "downstream_rate"}…], "total_count", "limit", "offset"}` |
/// | `device_history`    | `GET /api/v1/fritzbox/history/devices?hours=1&limit=1000&offset=0` (`/api/v1/history/devices`) | the first page unchanged (as above): `{"items": [{"timestamp", "ip", "name", "mac", "is_online": 0/1}…], "total_count", "limit", "offset"}` |
/// | `health`            | `GET /health` (not polled; read on request)                                   | unchanged: `{"status": "ok"/"degraded", "cache_age_seconds": n/null, "providers": {"fritzbox": …}}` |
///
/// `fetched_at` is ISO 8601, but real servers send `…+00:00Z` or `null`: it is delivered as sent.
/// `is_stale: true` means the server could not reach the router and answers from its cache; a
/// `devices` read then fails with 503 ("router may be unreachable"), so nothing about clients is
/// delivered from stale data.
///
/// Auth: `X-API-Key` when `api_key` is configured, else a form login (`username`/`password`) to
/// `/auth/login` for a 30-minute JWT, renewed a minute before its `exp` and again after any 401.
///
/// Rate: ONE budget for the whole source. Every request — polls, each page, retries, logins —
/// draws from a ``RateBudget`` that never allows more than `requests_per_minute` in any rolling
/// 62 s (a ``RollingWindow`` with a 2 s margin over the server's minute, not just a token bucket). A 429, with or without `Retry-After`,
/// closes the budget for at least 60 s (longer when `Retry-After` says so). The budget left is
/// reported in ``statistics()`` (`bridge/sources`). See ``schedule(requestsPerMinute:)`` for how
/// the poll intervals are derived from the budget.
///
/// Commands: the API has no write calls besides managing its own auth, so every command and
/// action fails with `not_supported` and sends nothing.
public final class FritzNetworkAdapter: SourceAdapter {
    /// One readable document: its current path, its path on an old server, and its query.
    struct Endpoint: Sendable {
        var path: String
        var legacyPath: String
        var query: [(name: String, value: String)] = []
        var paged = false
    }

    static let endpoints: [String: Endpoint] = [
        "devices": Endpoint(path: "/api/v1/fritzbox/devices", legacyPath: "/api/v1/devices", paged: true),
        "wan": Endpoint(path: "/api/v1/fritzbox/wan", legacyPath: "/api/v1/wan"),
        "bandwidth": Endpoint(path: "/api/v1/fritzbox/bandwidth", legacyPath: "/api/v1/bandwidth"),
        "bandwidth_history": Endpoint(
            path: "/api/v1/fritzbox/history/bandwidth", legacyPath: "/api/v1/history/bandwidth",
            query: [(name: "hours", value: "1"), (name: "limit", value: "60"), (name: "offset", value: "0")]),
        "device_history": Endpoint(
            path: "/api/v1/fritzbox/history/devices", legacyPath: "/api/v1/history/devices",
            query: [(name: "hours", value: "1"), (name: "limit", value: "1000"), (name: "offset", value: "0")]),
        "health": Endpoint(path: "/health", legacyPath: "/health"),
    ]

    /// The budget's window: a minute plus 2 s, so latency jitter between our grant and the
    /// server's arrival time can never put `requests_per_minute + 1` into the server's minute.
    static let rollingWindow: Duration = .seconds(62)

    /// The most items the API returns per page; asking for it spends the fewest requests.
    static let pageSize = 1_000
    /// Enough pages for 20 000 clients; a longer list is cut (and logged) rather than eat the budget.
    static let maxPages = 20

    let client: SourceHTTPClient
    /// The budget: never more requests than this in any rolling minute (`requests_per_minute`).
    public let requestsPerMinute: Int
    let logger: Logger
    /// Set once a `/api/v1/fritzbox/` path answered 404: the server predates the namespace.
    let usesLegacyPaths = Mutex(false)
    public let polls: [PollSchedule]
    let historyIntervals: [String: Duration]
    let clock: any SourceClock
    let started: ContinuousClock.Instant
    let history = Mutex(HistoryState())

    /// When each history endpoint was last fetched, and when a history fetch last went out.
    struct HistoryState {
        var lastFetch: [String: ContinuousClock.Instant] = [:]
        var lastClaim: ContinuousClock.Instant?
    }

    /// Creates the adapter from its configuration (`api_key` or `username` + `password`,
    /// `requests_per_minute`); `clock` drives the budget, backoff and token expiry (tests inject one).
    public init(
        configuration: SourceConfiguration, pool: HTTPClientPool, logger: Logger, clock: any SourceClock = SystemSourceClock()
    ) throws {
        guard let url = configuration.url else {
            throw CommandFailure(.internalError, "source '\(configuration.id)' has no url")
        }
        let base: SourceURL
        do {
            base = try SourceURL(url.absoluteString)
        } catch {
            throw CommandFailure(.internalError, "source '\(configuration.id)': \(error)")
        }
        let perMinute = max(1, configuration.int("requests_per_minute") ?? 10)
        requestsPerMinute = perMinute
        let budget = RateBudget(
            requestsPerMinute: Double(perMinute), burst: perMinute, reserve: 0,
            // A poll waits for budget at most as long as one request may take; the supervisor's
            // read deadline (twice the timeout) is never reached while waiting.
            maxWait: configuration.timeout, minimumBackoff: .seconds(60), clock: clock,
            rollingLimit: perMinute, rollingWindow: Self.rollingWindow, minimumPenalty: .seconds(60))
        let auth: any AuthStrategy
        if let key = configuration.secret("api_key") {
            auth = APIKeyAuth(header: "X-API-Key", key: Credential(key.revealed))
        } else if let username = configuration.string("username"), let password = configuration.secret("password") {
            let login = LoginBearerAuth(
                login: LoginForm(
                    path: "/auth/login", encoding: .form,
                    fields: ["username": Credential(username), "password": Credential(password.revealed)]),
                options: LoginBearerAuth.Options(
                    tokenKeyPath: "access_token", readsJWTExpiry: true, assumedLifetime: .seconds(30 * 60), renewBefore: .seconds(60)))
            auth = FritzNetworkLogin(login: login, budget: budget)
        } else {
            throw CommandFailure(.internalError, "source '\(configuration.id)' needs api_key, or username and password")
        }
        client = SourceHTTPClient(
            configuration: SourceHTTPClient.Configuration(
                baseURL: base, timeout: configuration.timeout,
                tls: SourceTLS(caFile: configuration.caFile, insecure: configuration.insecureTLS),
                // One retry at most: each try is a request from the budget.
                retry: RetryPolicy(maxAttempts: 2), usesETags: false),
            auth: auth, budget: budget, pool: pool, clock: clock, logger: logger)
        self.logger = logger
        polls = Self.schedule(requestsPerMinute: perMinute)
        historyIntervals = Self.historyIntervals(requestsPerMinute: perMinute)
        self.clock = clock
        started = clock.now
    }

    /// The poll schedule derived from the budget `B` (`requests_per_minute`, 10 by default):
    ///
    /// - Plan to spend 60 % of `B` (6 of 10, the FIELD-NOTES figure) and keep 40 % for what is not
    ///   scheduled: the JWT login (one per ~29 min), extra pages of a large network, the one retry of
    ///   a failed GET, refreshes after a reconnect. The rolling-window cap holds whatever happens.
    /// - History is slow data, fetched every ``historyIntervals(requestsPerMinute:)`` (30 min for
    ///   `bandwidth_history`, 60 min for `device_history`, 0.05 requests/minute together; stretched
    ///   when `B` is so small that they would take more than a tenth of the plan). Its polls only
    ///   *check* every 5 min: a fetch goes out when it is due, not in the first 2 minutes (the login
    ///   and the live documents go first), not within a minute of the other history fetch, and only
    ///   while at least 2 requests are left in the rolling minute, so history never takes the
    ///   budget a live poll needs. A check that sends nothing delivers nothing (`nil`).
    /// - The rest goes to `devices`, `wan` and `bandwidth` equally: each every `3 × 60 s / rest`,
    ///   but never faster than every 30 s, because the server reads the router only every 15–30 s
    ///   and a faster poll returns the same cache.
    ///
    /// `B = 10`: plan 6/min, history 0.05/min, the three live documents every 31 s (5.8/min).
    /// `B = 4`: every 77 s. `B = 1`: every 328 s, history every 30/60 min still.
    public static func schedule(requestsPerMinute: Int) -> [PollSchedule] {
        let plan = Double(max(1, requestsPerMinute)) * 0.6
        let history = historyIntervals(requestsPerMinute: requestsPerMinute).values.map { 60 / $0.secondsValue }.reduce(0, +)
        let rest = max(0.01, plan - history)
        let live = Duration.seconds(Int64(max(30, (3 * 60 / rest).rounded(.up))))
        return [
            PollSchedule(endpoint: "devices", every: live),
            PollSchedule(endpoint: "wan", every: live),
            PollSchedule(endpoint: "bandwidth", every: live),
            PollSchedule(endpoint: "bandwidth_history", every: historyCheck),
            PollSchedule(endpoint: "device_history", every: historyCheck),
        ]
    }

    /// How often each history endpoint is fetched (see ``schedule(requestsPerMinute:)``).
    public static func historyIntervals(requestsPerMinute: Int) -> [String: Duration] {
        let plan = Double(max(1, requestsPerMinute)) * 0.6
        let stretch = max(1, (1.0 / 30 + 1.0 / 60) / (plan / 10))
        return [
            "bandwidth_history": .seconds(Int64((1_800 * stretch).rounded(.up))),
            "device_history": .seconds(Int64((3_600 * stretch).rounded(.up))),
        ]
    }

    /// How often the history polls check whether a fetch is due.
    static let historyCheck: Duration = .seconds(300)
    /// No history fetch in the first minutes: the login and the live documents take that budget.
    static let historyHold: Duration = .seconds(120)

    // MARK: Reading

    public func read(endpoint: String) async throws -> JSONValue? {
        guard let spec = Self.endpoints[endpoint] else { throw SourceError.notSupported("endpoint '\(endpoint)'") }
        if spec.paged { return try await readPaged(spec) }
        let isHistory = historyIntervals[endpoint] != nil
        if isHistory, !(await claimHistoryFetch(endpoint)) { return nil }
        let document = try await withLegacyFallback(spec) { (path: String) async throws(SourceError) -> JSONValue in
            try Self.parse(try await self.client.get(path, query: spec.query).body, endpoint: endpoint)
        }
        if isHistory {
            let now = clock.now
            history.withLock { $0.lastFetch[endpoint] = now }
        }
        return document
    }

    /// Whether a history fetch may go out now (see ``schedule(requestsPerMinute:)``); claims the
    /// slot when it may, so the other history endpoint waits a minute.
    private func claimHistoryFetch(_ endpoint: String) async -> Bool {
        let now = clock.now
        guard now - started >= Self.historyHold else { return false }
        guard (await client.budget.remaining(for: .poll) ?? .max) >= 2 else { return false }
        let every = historyIntervals[endpoint] ?? .seconds(1_800)
        return history.withLock { state in
            if let last = state.lastFetch[endpoint], now - last < every { return false }
            if let claimed = state.lastClaim, now - claimed < Self.rollingWindow { return false }
            state.lastClaim = now
            return true
        }
    }

    /// `devices`: every page (limit 1000; a server that clamps lower still pages right), joined.
    private func readPaged(_ spec: Endpoint) async throws(SourceError) -> JSONValue {
        let paged = try await withLegacyFallback(spec) { (path: String) async throws(SourceError) -> PagedDocument in
            try await self.client.paginate(path, maxPageSize: Self.pageSize, maxPages: Self.maxPages)
        }
        if paged.itemCount < paged.totalCount {
            logger.warning(
                "Device list cut short", metadata: ["items": "\(paged.itemCount)", "total_count": "\(paged.totalCount)"])
        }
        guard case .object(var members) = try Self.parse(paged.body, endpoint: "devices") else {
            throw .malformedResponse("devices: not an object")
        }
        let items = (members["items"]?.arrayValue ?? []).map(Self.identified)
        members["items"] = .array(items)
        members["online_count"] = .number(Double(items.filter { $0["status"]?.numberValue == 1 }.count))
        return .object(members)
    }

    /// The item with `id` added: its MAC, or its IP when the MAC is empty or missing (FIELD-NOTES).
    static func identified(_ item: JSONValue) -> JSONValue {
        guard case .object(var members) = item else { return item }
        let mac = members["mac"]?.stringValue ?? ""
        let id = mac.isEmpty ? (members["ip"]?.stringValue ?? "") : mac
        members["id"] = .string(id)
        return .object(members)
    }

    /// Runs `body` on the endpoint's current path; on a 404 there (a server without the
    /// `/api/v1/fritzbox/` namespace) switches to the legacy paths for good and runs it again.
    private func withLegacyFallback<T>(
        _ spec: Endpoint, _ body: (String) async throws(SourceError) -> T
    ) async throws(SourceError) -> T {
        let legacy = usesLegacyPaths.withLock { $0 }
        guard !legacy, spec.path != spec.legacyPath else { return try await body(spec.legacyPath) }
        do {
            return try await body(spec.path)
        } catch {
            guard case .notFound = error else { throw error }
            usesLegacyPaths.withLock { $0 = true }
            logger.info("Server has no /api/v1/fritzbox/ paths; using the deprecated /api/v1/ ones")
            return try await body(spec.legacyPath)
        }
    }

    static func parse(_ body: [UInt8], endpoint: String) throws(SourceError) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            throw SourceError.malformedResponse("\(endpoint): \(error)")
        }
    }

    // MARK: Commands

    /// The API has no write calls for the network (only for its own auth): nothing is sent.
    public func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? {
        throw CommandFailure(.notSupported, "fritz_network is read-only: the API has no write calls; nothing was sent")
    }

    /// No actions exist for this source: nothing is sent.
    public func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        throw CommandFailure(.notSupported, "fritz_network is read-only: action '\(action)' does not exist; nothing was sent")
    }

    // MARK: Statistics

    /// Requests, latency, and the requests left in the rolling minute (0 while a 429 backs off).
    public func statistics() async -> AdapterStatistics {
        let statistics = client.statistics
        return AdapterStatistics(
            requests: statistics.requests, lastLatency: statistics.lastLatency, rateBudgetLeft: await client.budget.remaining(for: .poll))
    }

    /// How much longer a 429 keeps the source quiet, or `nil`.
    public var backoffLeft: Duration? {
        get async { await client.budget.blockedFor }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    fileprivate var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
