import BridgeCore
import Logging
import SourceKit
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// FlowerHub portal (`flowerhub`, contract: shared/apis/flowerhub-portal.md, FIELD-NOTES "FlowerHub portal").
//
// Endpoint names, the API path(s) behind each, and the document delivered (the API's own JSON,
// unchanged; `{owner}` is `user.assetOwnerId` from the login or refresh answer, `{asset}` the
// `assetId` of `/asset-owner/{owner}/withAssetId`):
//
// | endpoint         | path(s)                                                   | every        | document |
// |------------------|-----------------------------------------------------------|--------------|----------|
// | `asset`          | /asset/{asset}                                            | poll_interval | object: `id`, `inverter` {manufacturerName, name, powerCapacity, ...}, `battery` {manufacturerName, name, energyCapacity, powerCapacity, ...}, `fuseSize`, `flowerHubStatus` {status: "Connected"/"Disconnected"/..., message}, `isInstalled` |
// | `uptime`         | /asset-effective-uptime/pie-chart/{asset}?period=YYYY-MM, falling back to /asset-uptime/pie-chart/... | poll_interval | array `[{name: "uptime"|"downtime"|"noData", value: seconds}]` for the current month (e.g. `[name=uptime].value`) |
// | `uptime_history` | /asset-effective-uptime/bar-chart/history/{asset}, fallback /asset-uptime/... | 5 min (at least poll_interval) | array `[{date: "YYYY-MM", uptime: percent 0–100}]`, oldest first; `[-1].uptime` is this month's uptime % |
// | `uptime_months`  | /asset-effective-uptime/available-months/{asset}, fallback /asset-uptime/... | 1 h | array `[{value: "YYYY-MM", label: "March 2025"}]`; the last is the current month (also the pie's `period`) |
// | `asset_owner`    | /asset-owner/{owner}                                      | 6 h          | object: `asset` {id, serialNumber, assetModel {name, manufacturer}}, `installer`, `distributor`, `compensation` {status, message}, names |
// | `agreement`      | /asset-owner/{owner}/electricity-agreement                | 6 h          | object: `consumption` and `production`, each {stateCategory, stateId, siteId, startDate, terminationDate (null)} |
// | `invoices`       | /asset-owner/{owner}/invoice                              | 6 h          | array of invoices, newest first: {id, due_date, invoice_status, invoice_period, total_amount (string), remaining_amount (string), invoice_lines [...], sub_group_invoices [...], ...}; no currency field (the portal bills in SEK) |
// | `consumption`    | /asset-owner/{owner}/consumption                          | 1 h          | array `[{site_id, valid_from, valid_to, invoiced_month, volume (kWh, string or number), type: "Reading"|"Calculated", type_id}]`, oldest first; the last is the current month (growing, `valid_to` null) |
// | `profile`        | /asset-owner/{owner}/profile                              | 24 h         | object: names, mainEmail, address, accountStatus, installer |
//
// Polling: the battery system's status (`asset`) and this month's uptime (`uptime`) follow
// `poll_interval` (60 s by default), as the portal's known clients poll them; everything that
// changes at most daily (invoices, agreement, owner, profile) is read every 6–24 h, consumption
// and the month list hourly. Requests per hour at the default 60 s (before 401 recovery):
//
// | asset | uptime | uptime_history | uptime_months | consumption | asset_owner, agreement, invoices | profile | total |
// |-------|--------|----------------|---------------|-------------|----------------------------------|---------|-------|
// | 60    | 60 (its period from the hourly month list) | 12 | 1 | 1 | 1/6 each | 1/24 | about 134.5 |
//
// plus one refresh per access-cookie lifetime (4/h if it lasts 15 minutes, as in the simulator;
// sent before the first request that would carry an expired cookie, so no 401) and one login per
// refresh-cookie lifetime. The slow documents are about 1 % of the requests. Measured over 24
// simulated hours: Benchmarks/run-flowerhub-benchmark.
// `/system-notification/...` answers 200 with an empty body and is not read.
//
// Auth is the cookie session of `FlowerHubSession` (login, refresh on 401, no login storm) with
// `Origin: https://portal.flowerhub.se` on every request; GETs send `If-None-Match` when the portal
// gave an ETag and a 304 reads as "unchanged" (`nil`); a 429 closes the source until `Retry-After`.
// The portal has no commands: every call or action fails with `not_supported` and sends nothing.

/// The FlowerHub home-battery portal (`flowerhub`): see the table above for the endpoints.
public final class FlowerHubAdapter: SourceAdapter {
    /// The `Origin` the portal expects on every request (its web app's).
    public static let origin = "https://portal.flowerhub.se"
    /// The portal's API, used when `url` names the portal itself (the configuration's default).
    public static let apiURL = "https://api.portal.flowerhub.se"

    /// Where the uptime documents live on this deployment.
    enum UptimePrefix: String, Sendable {
        case effective = "/asset-effective-uptime"
        case legacy = "/asset-uptime"

        var other: UptimePrefix { self == .effective ? .legacy : .effective }
    }

    struct Identifiers: Sendable, Hashable {
        var owner: Int
        var asset: Int
    }

    let client: SourceHTTPClient
    let session: FlowerHubSession
    let logger: Logger
    let clock: any SourceClock
    public let polls: [PollSchedule]
    /// The API's base URL in use (the portal's own address is replaced by its API's).
    public var baseURL: SourceURL { client.configuration.baseURL }
    private let knownIdentifiers = Mutex<Identifiers?>(nil)
    private let lookup = Mutex<Task<Result<Identifiers, SourceError>, Never>?>(nil)
    /// The uptime prefix that answered last; the newer one is tried first.
    private let uptimePrefix = Mutex<UptimePrefix>(.effective)
    /// The current month (`YYYY-MM`) as the portal's month list says, and when it was read.
    private let period = Mutex<(value: String, at: ContinuousClock.Instant)?>(nil)
    /// The month list last delivered as `uptime_months`.
    private let deliveredMonths = Mutex<JSONValue?>(nil)

    /// Creates the adapter of one `flowerhub` source.
    /// - Parameter clock: the time of the rate budget, retries, cookie expiry and the month lookup
    ///   (tests and benchmarks share a manual one with the simulator).
    /// - Throws: ``CommandFailure`` when `url`, `username` or `password` is missing or unusable.
    public init(
        configuration: SourceConfiguration, pool: HTTPClientPool, logger: Logger, clock: any SourceClock = SystemSourceClock()
    ) throws {
        let base = try Self.baseURL(configuration)
        guard let username = configuration.string("username"), !username.isEmpty else {
            throw CommandFailure(.internalError, "source '\(configuration.id)' has no username")
        }
        guard let password = configuration.secret("password") else {
            throw CommandFailure(.internalError, "source '\(configuration.id)' has no password")
        }
        let pollInterval = configuration.duration("poll_interval") ?? .seconds(60)
        let budget = RateBudget(clock: clock)
        let session = FlowerHubSession(
            username: Credential(username), password: Credential(password.revealed), budget: budget, clock: clock, logger: logger)
        self.session = session
        client = SourceHTTPClient(
            configuration: SourceHTTPClient.Configuration(
                baseURL: base, timeout: configuration.timeout,
                tls: SourceTLS(caFile: configuration.caFile, insecure: configuration.insecureTLS),
                headers: [(name: "Origin", value: Self.origin)]),
            auth: session, budget: budget, pool: pool, clock: clock, logger: logger)
        self.clock = clock
        self.logger = logger
        polls = [
            PollSchedule(endpoint: "asset", every: pollInterval),
            PollSchedule(endpoint: "uptime", every: pollInterval),
            PollSchedule(endpoint: "uptime_history", every: max(pollInterval, .seconds(300))),
            PollSchedule(endpoint: "uptime_months", every: max(pollInterval, .seconds(3600))),
            PollSchedule(endpoint: "consumption", every: max(pollInterval, .seconds(3600))),
            PollSchedule(endpoint: "asset_owner", every: max(pollInterval, .seconds(6 * 3600))),
            PollSchedule(endpoint: "agreement", every: max(pollInterval, .seconds(6 * 3600))),
            PollSchedule(endpoint: "invoices", every: max(pollInterval, .seconds(6 * 3600))),
            PollSchedule(endpoint: "profile", every: max(pollInterval, .seconds(24 * 3600))),
        ]
    }

    /// `url`, with the portal's own address (the default) replaced by its API's.
    static func baseURL(_ configuration: SourceConfiguration) throws -> SourceURL {
        guard var url = configuration.url?.absoluteString else {
            throw CommandFailure(.internalError, "source '\(configuration.id)' has no url")
        }
        if let host = configuration.url?.host?.lowercased(), host == "portal.flowerhub.se" {
            url = apiURL
        }
        do {
            return try SourceURL(url)
        } catch {
            throw CommandFailure(.internalError, "source '\(configuration.id)': \(error)")
        }
    }

    // MARK: Reading

    /// Every endpoint name this adapter delivers.
    public static let endpoints: Set<String> = [
        "asset", "uptime", "uptime_history", "uptime_months", "consumption", "asset_owner", "agreement", "invoices", "profile",
    ]

    public func read(endpoint: String) async throws -> JSONValue? {
        guard Self.endpoints.contains(endpoint) else {
            throw SourceError.notSupported("endpoint '\(endpoint)' of flowerhub")
        }
        let ids = try await identifiers()
        switch endpoint {
        case "asset": return try await document("/asset/\(ids.asset)", endpoint: endpoint)
        case "asset_owner": return try await document("/asset-owner/\(ids.owner)", endpoint: endpoint)
        case "agreement": return try await document("/asset-owner/\(ids.owner)/electricity-agreement", endpoint: endpoint)
        case "invoices": return try await document("/asset-owner/\(ids.owner)/invoice", endpoint: endpoint)
        case "consumption": return try await document("/asset-owner/\(ids.owner)/consumption", endpoint: endpoint)
        case "profile": return try await document("/asset-owner/\(ids.owner)/profile", endpoint: endpoint)
        case "uptime_months": return try await uptimeMonths(ids, delivering: true)
        case "uptime_history": return try await uptimeDocument("/bar-chart/history/\(ids.asset)", endpoint: endpoint)
        case "uptime":
            let period = try await currentPeriod(ids)
            return try await uptimeDocument("/pie-chart/\(ids.asset)", query: [(name: "period", value: period)], endpoint: endpoint)
        default:
            throw SourceError.notSupported("endpoint '\(endpoint)' of flowerhub")
        }
    }

    /// A GET whose body is delivered as it is; `nil` after a 304.
    private func document(_ path: String, endpoint: String) async throws(SourceError) -> JSONValue? {
        let response = try await client.get(path)
        if response.unchanged { return nil }
        return try Self.parse(response.body, endpoint: endpoint)
    }

    /// An uptime document, delivered as it is; `nil` after a 304.
    private func uptimeDocument(_ suffix: String, query: [(name: String, value: String)] = [], endpoint: String) async throws(SourceError) -> JSONValue? {
        let response = try await uptimeResponse(suffix, query: query)
        if response.unchanged { return nil }
        return try Self.parse(response.body, endpoint: endpoint)
    }

    /// An uptime answer from the prefix that answered last; on 404, from the other one (and that
    /// one is remembered).
    private func uptimeResponse(_ suffix: String, query: [(name: String, value: String)] = []) async throws(SourceError) -> SourceResponse {
        let prefix = uptimePrefix.withLock { $0 }
        do throws(SourceError) {
            return try await client.get(prefix.rawValue + suffix, query: query)
        } catch {
            guard case .notFound = error else { throw error }
            let fallback = prefix.other
            let response = try await client.get(fallback.rawValue + suffix, query: query)
            uptimePrefix.withLock { $0 = fallback }
            logger.info("FlowerHub uptime read from \(fallback.rawValue)")
            return response
        }
    }

    /// The month list. It is also read for the pie chart's period, so whether it is news for the
    /// bridge is decided by what was delivered last, not by the 304 (the cached body is parsed).
    /// - Parameter delivering: `false` for the period lookup: nothing is delivered.
    private func uptimeMonths(_ ids: Identifiers, delivering: Bool) async throws(SourceError) -> JSONValue? {
        let response = try await uptimeResponse("/available-months/\(ids.asset)")
        let months = try Self.parse(response.body, endpoint: "uptime_months")
        if let latest = months.arrayValue?.last?["value"]?.stringValue {
            period.withLock { $0 = (latest, clock.now) }
        }
        guard delivering else { return nil }
        return deliveredMonths.withLock { delivered in
            if delivered == months { return nil }
            delivered = months
            return months
        }
    }

    /// How long the pie's `period` is used after the month list was read. The scheduled hourly
    /// `uptime_months` read renews it (so a new month is picked up within the hour); only when
    /// that read has not answered for two hours does the pie read the list itself. At one hour,
    /// the pie, polled in the same minute as the list, read it a second time every hour.
    static let periodLifetime: Duration = .seconds(2 * 3600)

    /// The pie chart's `period`: the last month the portal lists (see ``periodLifetime``); the
    /// portal's month, not this machine's, so clocks need not agree.
    private func currentPeriod(_ ids: Identifiers) async throws(SourceError) -> String {
        if let known = period.withLock({ $0 }), clock.now - known.at < Self.periodLifetime {
            return known.value
        }
        _ = try await uptimeMonths(ids, delivering: false)
        if let known = period.withLock({ $0 }) { return known.value }
        throw .malformedResponse("uptime_months: the portal lists no month")
    }

    /// The owner id (from the login or refresh answer) and the asset id, looked up once;
    /// concurrent first reads share one lookup.
    func identifiers() async throws(SourceError) -> Identifiers {
        if let known = knownIdentifiers.withLock({ $0 }) { return known }
        let task = lookup.withLock { running in
            if let running { return running }
            let task = Task { () -> Result<Identifiers, SourceError> in
                let result: Result<Identifiers, SourceError>
                do throws(SourceError) {
                    result = .success(try await self.lookUpIdentifiers())
                } catch {
                    result = .failure(error)
                }
                self.lookup.withLock { $0 = nil }
                return result
            }
            running = task
            return task
        }
        let ids = try await task.value.get()
        knownIdentifiers.withLock { $0 = ids }
        return ids
    }

    private func lookUpIdentifiers() async throws(SourceError) -> Identifiers {
        guard let answer = try await client.establishSession() else {
            throw .malformedResponse("the login gave no answer")
        }
        guard let ownerId = Self.ownerId(from: try Self.parse(answer.body, endpoint: "login")) else {
            throw .malformedResponse("login: no user.assetOwnerId")
        }
        let response = try await client.get("/asset-owner/\(ownerId)/withAssetId")
        let withAsset = try Self.parse(response.body, endpoint: "withAssetId")
        guard let asset = withAsset["assetId"]?.numberValue else {
            throw .malformedResponse("withAssetId: no assetId")
        }
        return Identifiers(owner: ownerId, asset: Int(asset))
    }

    /// `assetOwnerId` of a login answer (`{"user": {...}}`) or a refresh answer (the user at top
    /// level, or under `user` on some deployments).
    static func ownerId(from answer: JSONValue) -> Int? {
        guard let owner = (answer["user"]?["assetOwnerId"] ?? answer["assetOwnerId"])?.numberValue,
            owner.rounded() == owner, abs(owner) < 1e15
        else { return nil }
        return Int(owner)
    }

    static func parse(_ body: [UInt8], endpoint: String) throws(SourceError) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            throw SourceError.malformedResponse("\(endpoint): \(error)")
        }
    }

    // MARK: Commands

    /// The portal is read-only: nothing is sent.
    public func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? {
        throw CommandFailure(.notSupported, "flowerhub is read-only: the portal API has no commands (\(call.method) \(call.path) not sent)")
    }

    /// The portal is read-only: nothing is sent.
    public func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        throw CommandFailure(.notSupported, "flowerhub is read-only: action '\(action)' does not exist")
    }

    public func statistics() async -> AdapterStatistics {
        let statistics = client.statistics
        return AdapterStatistics(
            requests: statistics.requests, lastLatency: statistics.lastLatency, rateBudgetLeft: await client.budget.remaining())
    }
}
