import BridgeCore
import Logging
import SourceKit
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// OCPP CSMS (`ocpp_csms`; contract: shared/apis/ocpp-csms-rest.md, real-server behaviour:
// shared/apis/FIELD-NOTES.md "OCPP CSMS"). `url` is the server root; the adapter adds `/api/v1`.
//
// Endpoints delivered (names for Mappings/ocpp_csms.yaml):
//
//   charge_points  GET /api/v1/chp. The API's array of ChargePoint objects, unchanged, except:
//                  `null` (the real server's empty list) becomes `[]`, and with a `charge_points`
//                  allow-list only the listed charge points are kept. Each item: charge_point_id,
//                  is_enabled, title, description, model, serial_number, vendor, firmware_version,
//                  status, error_code, info, event_time, is_online, status_time, address,
//                  access_type, access_level, location{latitude,longitude}, connectors[] (Connector
//                  objects, see below; may be `null` on the real server). Child list for charge
//                  points: `[*]`, id `charge_point_id`.
//   connectors     Built by the adapter from the same /chp answer and GET /api/v1/transactions/active:
//                  a flat array with one item per connector of every (allowed) charge point. Each
//                  item is the API's Connector object unchanged (connector_id, connector_id_name,
//                  charge_point_id, type, status [OCPP 1.6: Available, Preparing, Charging,
//                  SuspendedEVSE, SuspendedEV, Finishing, Reserved, Unavailable, Faulted],
//                  status_time, state, info, vendor_id, error_code, power [the RATED power in W,
//                  not the live power], current_transaction_id [0 or -1 when idle: both mean
//                  none]) plus one member the adapter adds:
//                    session: the ChargeState object of the connector's active transaction from
//                             /transactions/active, unchanged (transaction_id, time_started,
//                             meter_start [Wh], duration [s], consumed [Wh], power_rate [W, live
//                             power, 0 unless charging], price [cents], status, is_charging,
//                             can_stop, id_tag, meter_values[] [TransactionMeter: value = energy
//                             register in Wh, …; may be `null`], payment_plan{price_per_kwh, …}, …),
//                             or `null` when the connector has none visible to this account
//                             (/transactions/active lists only the account's own id tags).
//                    session_event: only in the first `connectors` document after the connector's
//                             transaction changed: {"type": "started"|"stopped", "transaction_id"}
//                             (see connectorsDocument; drives the mapping's event entity).
//                  Child list: `[*]`, id `[charge_point_id, connector_id]`. The energy register
//                  of a session is `session.meter_start + session.consumed` (Wh), or the last
//                  `session.meter_values[*].value`.
//   account        The User object the login (POST /api/v1/users/authenticate) answered, without
//                  its `token`: username, name, role, access_level, email, user_id, … No request of
//                  its own while the login holds; delivered every 10 minutes (or poll_interval if
//                  longer). Gives the CSMS's own device its entities.
//   transactions   GET /api/v1/transactions/active: the API's array of ChargeState objects,
//                  unchanged (`null` → `[]`; allow-list applied). Every active session of the
//                  account's id tags, whichever tag started it.
//
// /chp and /transactions/active are each read once per poll round (`poll_interval`, 15 s by
// default) and shared by the endpoints built from them. The WebSocket (/ws, `ListenChargePoints`)
// makes the adapter read both again and deliver `charge_points`, `connectors` and `transactions`
// shortly after a charge point event (and right after each connect) instead of at the next poll;
// such refreshes are at least 2 s apart. The socket is a shortcut only: polling runs whether it
// is up or not, so the source has no stream fallback endpoints. Each stream() is one connection.
//
// Auth: `username` + `password` log in at POST /api/v1/users/authenticate; a `token` logs in
// with `{"password": <token>}` (the API's token login). Requests carry `Authorization: Bearer`.
// A 401 logs in once more and resends; a second 401 is an auth error. Every password login
// replaces the account's token (FIELD-NOTES): a person using the same account logs the bridge
// out, and the bridge's next login logs them out.
//
// Commands: see OCPPCSMSAdapter+Commands.swift.

/// The OCPP CSMS adapter: charge points, connectors and sessions by polling (and the WebSocket's
/// charge point events to refresh sooner), and OCPP 1.6 commands through `POST /api/v1/csc`.
public final class OCPPCSMSAdapter: SourceAdapter {
    /// The API's path prefix under the server root.
    static let prefix = "/api/v1"
    static let endpoints: Set<String> = ["charge_points", "connectors", "transactions", "account"]

    let client: SourceHTTPClient
    /// The client `/csc` commands go through: the same login, a longer timeout (the CSMS waits
    /// up to 10 s for a charger before it answers).
    let commandClient: SourceHTTPClient
    let auth: LoginBearerAuth
    let allowList: Set<String>?
    let idTag: String?
    let pollInterval: Duration
    let logger: Logger
    let chargePoints: OCPPCSMSCache
    let sessions: OCPPCSMSCache
    /// Each connector's transaction id (0: none) in the last `connectors` document, with the
    /// generations of the two lists it was built from; `nil` before the first. The next document
    /// marks the connectors whose transaction changed.
    let lastTransactions = Mutex<(points: Int, sessions: Int, ids: [String: Int])?>(nil)
    public let polls: [PollSchedule]

    /// Creates the adapter of one configured source.
    /// - Throws: ``CommandFailure`` (`internal_error`) when the source has no usable url or credentials
    ///   (the configuration loader normally rejects those first).
    /// - Parameter clock: the time the shared list reads age on (``sharedAge``) and of the rate
    ///   budgets (how long a 429 blocks requests); tests on a simulated clock inject theirs.
    ///   Requests, retries and the WebSocket keep real time.
    public init(
        configuration: SourceConfiguration, pool: HTTPClientPool, logger: Logger, clock: any SourceClock = SystemSourceClock()
    ) throws {
        chargePoints = OCPPCSMSCache(clock: clock)
        sessions = OCPPCSMSCache(clock: clock)
        guard let url = configuration.url else {
            throw CommandFailure(.internalError, "source '\(configuration.id)' has no url")
        }
        let base: SourceURL
        do {
            base = try SourceURL(url.absoluteString)
        } catch {
            throw CommandFailure(.internalError, "source '\(configuration.id)': \(error)")
        }
        let login: LoginForm
        if let username = configuration.string("username"), !username.isEmpty, let password = configuration.secret("password") {
            login = LoginForm(
                path: Self.prefix + "/users/authenticate",
                fields: ["username": Credential(username), "password": Credential(password.revealed)])
        } else if let token = configuration.secret("token") {
            login = LoginForm(path: Self.prefix + "/users/authenticate", fields: ["password": Credential(token.revealed)])
        } else {
            throw CommandFailure(.internalError, "source '\(configuration.id)' needs username and password, or token")
        }
        auth = LoginBearerAuth(login: login, options: LoginBearerAuth.Options(readsJWTExpiry: false))
        let tls = SourceTLS(caFile: configuration.caFile, insecure: configuration.insecureTLS)
        client = SourceHTTPClient(
            configuration: SourceHTTPClient.Configuration(baseURL: base, timeout: configuration.timeout, tls: tls),
            auth: auth, budget: RateBudget(clock: clock), pool: pool, logger: logger)
        commandClient = SourceHTTPClient(
            configuration: SourceHTTPClient.Configuration(baseURL: base, timeout: max(configuration.timeout, .seconds(15)), tls: tls),
            auth: auth, budget: RateBudget(clock: clock), pool: pool, logger: logger)
        let listed = configuration.strings("charge_points") ?? []
        allowList = listed.isEmpty ? nil : Set(listed)
        idTag = configuration.string("remote_start_id_tag").flatMap { $0.isEmpty ? nil : $0 }
        let interval = configuration.duration("poll_interval") ?? .seconds(15)
        pollInterval = interval
        self.logger = logger
        polls = ["charge_points", "connectors", "transactions"].map { PollSchedule(endpoint: $0, every: interval) }
            + [PollSchedule(endpoint: "account", every: max(interval, .seconds(600)))]
    }

    /// How long a list read for one endpoint serves the others of the same poll round.
    var sharedAge: Duration { pollInterval / 2 }

    public func read(endpoint: String) async throws -> JSONValue? {
        switch endpoint {
        case "charge_points": return .array(try await readChargePoints())
        case "transactions": return .array(try await readSessions())
        case "connectors":
            let points = try await chargePoints.snapshot(maxAge: sharedAge) { await self.fetchList("/chp") }
            let active = try await sessions.snapshot(maxAge: sharedAge) { await self.fetchList("/transactions/active") }
            return connectorsDocument(chargePoints: points, sessions: active)
        case "account": return try await readAccount()
        default: throw SourceError.notSupported("endpoint '\(endpoint)'")
        }
    }

    /// The User object of the current login's answer, without its `token` (no request while
    /// the login holds).
    func readAccount() async throws(SourceError) -> JSONValue {
        guard let answer = try await client.establishSession(), case .object(var fields)? = try? JSONValue.parse(answer.body) else {
            throw SourceError.malformedResponse("the login answer is not a User object")
        }
        fields["token"] = nil
        return .object(fields)
    }

    func readChargePoints(maxAge: Duration? = nil) async throws(SourceError) -> [JSONValue] {
        try await chargePoints.get(maxAge: maxAge ?? sharedAge) { await self.fetchList("/chp") }
    }

    func readSessions(maxAge: Duration? = nil) async throws(SourceError) -> [JSONValue] {
        try await sessions.get(maxAge: maxAge ?? sharedAge) { await self.fetchList("/transactions/active") }
    }

    /// GETs a list: `null` is an empty list; the allow-list keeps only its charge points.
    func fetchList(_ path: String) async -> Result<[JSONValue], SourceError> {
        do throws(SourceError) {
            let response = try await client.get(Self.prefix + path)
            let document: JSONValue
            do {
                document = try JSONValue.parse(response.body)
            } catch {
                throw SourceError.malformedResponse("\(Self.prefix + path): \(error)")
            }
            let items: [JSONValue]
            switch document {
            case .null: items = []
            case .array(let array): items = array
            default: throw SourceError.malformedResponse("\(Self.prefix + path): expected a list, got \(document.kindDescription)")
            }
            guard let allowList else { return .success(items) }
            return .success(items.filter { $0["charge_point_id"]?.stringValue.map(allowList.contains) ?? false })
        } catch {
            return .failure(error)
        }
    }

    /// The `connectors` document: every connector of `chargePoints` with its `session` (or `null`).
    static func connectors(chargePoints: [JSONValue], sessions: [JSONValue]) -> JSONValue {
        var byConnector: [String: JSONValue] = [:]
        for session in sessions {
            guard let point = session["charge_point_id"]?.stringValue, let connector = session["connector_id"]?.numberValue else { continue }
            byConnector["\(point)#\(Int(connector))"] = session
        }
        var items: [JSONValue] = []
        for point in chargePoints {
            guard let pointID = point["charge_point_id"]?.stringValue else { continue }
            for connector in point["connectors"]?.arrayValue ?? [] {
                guard var fields = connector.objectValue, let id = fields["connector_id"]?.numberValue else { continue }
                if fields["charge_point_id"]?.stringValue?.isEmpty ?? true { fields["charge_point_id"] = .string(pointID) }
                fields["session"] = byConnector["\(pointID)#\(Int(id))"] ?? .null
                items.append(.object(fields))
            }
        }
        return .array(items)
    }

    /// The `connectors` document with `session_event` on each connector whose transaction changed
    /// since the previous `connectors` document: `{"type": "started", "transaction_id": <new>}`, or
    /// `{"type": "stopped", "transaction_id": <old>}` when it has none now (a stop and a new start
    /// between two documents give `started`). Connectors seen for the first time get none, and so
    /// does a document built from an older read of either list than the previous one (a poll and
    /// a WebSocket refresh racing), which also leaves the state compared against unchanged.
    func connectorsDocument(chargePoints points: OCPPCSMSCache.Snapshot, sessions active: OCPPCSMSCache.Snapshot) -> JSONValue {
        guard case .array(var items) = Self.connectors(chargePoints: points.items, sessions: active.items) else { return .array([]) }
        var current: [String: Int] = [:]
        for item in items {
            guard let key = Self.connectorKey(item) else { continue }
            current[key] = Self.transactionID(item)
        }
        let previous: [String: Int]? = lastTransactions.withLock { last in
            if let before = last, points.generation < before.points || active.generation < before.sessions { return nil }
            let before = last?.ids
            last = (points.generation, active.generation, current)
            return before
        }
        guard let previous else { return .array(items) }
        for position in items.indices {
            guard let key = Self.connectorKey(items[position]), let before = previous[key], let now = current[key], before != now,
                case .object(var fields) = items[position]
            else { continue }
            fields["session_event"] = .object([
                "type": .string(now > 0 ? "started" : "stopped"), "transaction_id": .number(Double(now > 0 ? now : before)),
            ])
            items[position] = .object(fields)
        }
        return .array(items)
    }

    static func connectorKey(_ item: JSONValue) -> String? {
        guard let point = item["charge_point_id"]?.stringValue, let connector = item["connector_id"]?.numberValue else { return nil }
        return "\(point)#\(Int(connector))"
    }

    /// A connector item's transaction: `current_transaction_id` when positive, else its session's; 0 for none.
    static func transactionID(_ item: JSONValue) -> Int {
        if let id = item["current_transaction_id"]?.numberValue, id > 0 { return Int(id) }
        if let id = item["session"]?["transaction_id"]?.numberValue, id > 0 { return Int(id) }
        return 0
    }

    public func statistics() async -> AdapterStatistics {
        let reads = client.statistics
        let commands = commandClient.statistics
        return AdapterStatistics(
            requests: reads.requests + commands.requests, lastLatency: reads.lastLatency ?? commands.lastLatency,
            rateBudgetLeft: await client.budget.remaining())
    }
}
