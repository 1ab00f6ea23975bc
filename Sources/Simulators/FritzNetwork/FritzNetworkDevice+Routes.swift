import BridgeCore
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Who a request authenticated as.
enum FritzCaller: Sendable {
    case jwt
    case apiKey(id: Int)
}

/// The paths of the Fritz!Box network API.
extension FritzNetworkDevice {
    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/health") { request, _ in
            self.guarded(request, authentication: .open) { _ in self.health() }
        }
        router.post("/auth/login") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            let text = String(buffer: body)
            return self.guarded(request, authentication: .open) { _ in self.login(form: text, path: request.uri.path) }
        }
        router.post("/auth/api-keys") { request, _ in
            var request = request
            let body = Array(try await request.collectBody(upTo: 1 << 16).readableBytesView)
            return self.guarded(request, authentication: .jwtOnly) { _ in self.createKey(body: body, path: request.uri.path) }
        }
        router.get("/auth/api-keys") { request, _ in
            self.guarded(request, authentication: .jwtOnly) { _ in self.listKeys() }
        }
        router.delete("/auth/api-keys/:key_id") { request, context in
            let id = context.parameters.get("key_id")
            return self.guarded(request, authentication: .jwtOnly) { _ in self.deleteKey(id, path: request.uri.path) }
        }
        for prefix in ["/api/v1", "/api/v1/fritzbox"] {
            let provider = prefix.hasSuffix("fritzbox")
            router.get(RouterPath("\(prefix)/devices")) { request, _ in
                self.api(request, provider: provider) { self.devices(request, providerType: !provider) }
            }
            router.get(RouterPath("\(prefix)/bandwidth")) { request, _ in
                self.api(request, provider: provider) {
                    self.current(request) { self.bandwidthJSON($0, stale: $1) }
                }
            }
            router.get(RouterPath("\(prefix)/wan")) { request, _ in
                self.api(request, provider: provider) {
                    self.current(request) { self.wanJSON($0, stale: $1) }
                }
            }
            router.get(RouterPath("\(prefix)/history/bandwidth")) { request, _ in
                self.api(request, provider: provider) { self.bandwidthHistory(request) }
            }
            router.get(RouterPath("\(prefix)/history/devices")) { request, _ in
                self.api(request, provider: provider) { self.deviceHistory(request) }
            }
        }
    }

    enum Authentication { case open, any, jwtOnly }

    /// An authenticated API path; 404 for the provider namespace on an old server.
    private func api(_ request: Request, provider: Bool, _ body: () -> Response) -> Response {
        if provider, faults.isEnabled(.noProviderNamespace) {
            return Self.problem(.notFound, "Not Found", instance: request.uri.path)
        }
        return guarded(request, authentication: .any) { _ in body() }
    }

    /// The rate limit's decision on a request, made when it arrived.
    struct Admission: Sendable {
        var admitted: Bool
        var retryAfter: Int
        var decision: (Bool, Int) { (admitted, retryAfter) }
    }

    /// The decision ``FritzRecordingMiddleware`` made when the request arrived, before any fault
    /// held it: a real server's limiter counts a request on arrival, so one that hangs (the
    /// timeout fault) and is given up by its client still counts then, not when it is let go.
    @TaskLocal static var arrival: Admission?

    /// Counts `request` against its identity's rolling minute (unless refused).
    func admit(_ request: Request) -> Admission {
        let identity = Self.identity(of: request)
        return store.withLock { store in
            let admitted = store.admit(identity)
            return Admission(admitted: admitted, retryAfter: store.retryAfter(identity))
        }
    }

    /// Rate limit (per identity, before auth; decided on arrival), then authentication, then `body`.
    func guarded(_ request: Request, authentication: Authentication, _ body: (FritzCaller?) -> Response) -> Response {
        let path = request.uri.path
        let (admitted, retryAfter) = (Self.arrival ?? admit(request)).decision
        guard admitted else {
            if faults.isEnabled(.plainRateLimitError) {
                return Self.json(.object(["error": .string("Rate limit exceeded")]), status: .tooManyRequests)
            }
            return Self.problem(
                .tooManyRequests, "Rate limit exceeded: \(configuration.rateLimit) per 1 minute", instance: path,
                headers: [.retryAfter: String(retryAfter)])
        }
        guard authentication != .open else { return body(nil) }
        let caller = authenticate(request, allowAPIKey: authentication == .any)
        guard let caller else {
            let detail = authentication == .jwtOnly
                ? "Missing or invalid JWT token (API keys cannot manage API keys)"
                : "Missing or invalid authentication (API Key or Bearer token required)"
            return Self.problem(.unauthorized, detail, instance: path, headers: [.wwwAuthenticate: "Bearer"])
        }
        return body(caller)
    }

    private func authenticate(_ request: Request, allowAPIKey: Bool) -> FritzCaller? {
        if allowAPIKey, let key = Self.apiKey(of: request) {
            return store.withLock { store in
                guard let index = store.apiKeys.firstIndex(where: { $0.isActive && $0.key == key }) else { return nil }
                store.apiKeys[index].lastUsedAt = store.now
                return .apiKey(id: store.apiKeys[index].id)
            }
        }
        guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let token = String(authorization.dropFirst(7))
        return store.withLock { store in
            guard let expiry = store.tokens[token], expiry > store.now else { return nil }
            return .jwt
        }
    }

    // MARK: Health and auth

    private func health() -> Response {
        let (cache, reachable, now) = store.withLock { ($0.cache, $0.routerReachable, $0.now) }
        let age: JSONValue = cache.map { JSONValue.number(Double(Int(now.timeIntervalSince($0.fetchedAt)))) } ?? JSONValue.null
        return Self.json(.object([
            "status": .string(reachable && cache != nil ? "ok" : "degraded"),
            "cache_age_seconds": age,
            "providers": .object(["fritzbox": .string(reachable ? "ok" : "unreachable")]),
        ]))
    }

    private func login(form: String, path: String) -> Response {
        let fields = Self.formFields(form)
        guard let username = fields["username"], let password = fields["password"] else {
            return Self.problem(.unprocessableContent, "Invalid input: username and password are required", instance: path)
        }
        guard username == configuration.username, password == configuration.password else {
            return Self.problem(.unauthorized, "Incorrect username or password", instance: path, headers: [.wwwAuthenticate: "Bearer"])
        }
        let lifetime = configuration.tokenLifetime.seconds
        let token = store.withLock { store in
            store.tokenCount += 1
            let expiry = store.now.addingTimeInterval(lifetime)
            let token = Self.makeJWT(subject: username, issued: store.now, expiry: expiry, serial: store.tokenCount, random: &store.random)
            store.tokens[token] = expiry
            return token
        }
        return Self.json(.object(["access_token": .string(token), "token_type": .string("bearer")]))
    }

    private func createKey(body: [UInt8], path: String) -> Response {
        guard let name = (try? JSONValue.parse(body))?["name"]?.stringValue, !name.isEmpty else {
            return Self.problem(.unprocessableContent, "Invalid input: name is required", instance: path)
        }
        let created = store.withLock { store in
            let id = (store.apiKeys.map(\.id).max() ?? 0) + 1
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
            let key = "ha_" + String((0..<32).map { _ in alphabet[Int(store.random.next() % UInt64(alphabet.count))] })
            let record = FritzAPIKey(id: id, name: name, key: key, createdAt: store.now, lastUsedAt: nil, isActive: true)
            store.apiKeys.append(record)
            return record
        }
        return Self.json(.object([
            "id": .number(Double(created.id)), "name": .string(created.name), "api_key": .string(created.key),
            "created_at": .string(Self.isoDate(created.createdAt)),
        ]), status: .created)
    }

    private func listKeys() -> Response {
        let keys = store.withLock { $0.apiKeys.filter(\.isActive) }
        let items: [JSONValue] = keys.map { key in
            .object([
                "id": .number(Double(key.id)), "name": .string(key.name), "created_at": .string(Self.isoDate(key.createdAt)),
                "last_used_at": key.lastUsedAt.map { JSONValue.string(Self.isoDate($0)) } ?? JSONValue.null, "is_active": .bool(key.isActive),
            ])
        }
        return Self.json(.object(["keys": .array(items), "count": .number(Double(items.count))]))
    }

    private func deleteKey(_ text: String?, path: String) -> Response {
        guard let text, let id = Int(text) else {
            return Self.problem(.unprocessableContent, "Invalid input: key_id must be an integer", instance: path)
        }
        let deleted = store.withLock { store in
            guard let index = store.apiKeys.firstIndex(where: { $0.id == id && $0.isActive }) else { return false }
            store.apiKeys[index].isActive = false
            return true
        }
        guard deleted else { return Self.problem(.notFound, "API key \(id) not found", instance: path) }
        return Response(status: .noContent)
    }

    // MARK: Data

    private func devices(_ request: Request, providerType: Bool) -> Response {
        let query: PageQuery
        switch pageQuery(request, hours: false) {
        case .success(let value): query = value
        case .failure(let problem): return problem.response
        }
        let (cache, reachable) = store.withLock { ($0.cache, $0.routerReachable) }
        guard reachable, let cache else {
            return Self.problem(.serviceUnavailable, "Device data not available - router may be unreachable", instance: request.uri.path)
        }
        let items = cache.clients.map { clientJSON($0, providerType: providerType) }
        return Self.json(Self.slice(items, query))
    }

    private func current(_ request: Request, _ document: (FritzNetworkSnapshot, Bool) -> JSONValue) -> Response {
        let (cache, reachable) = store.withLock { ($0.cache, $0.routerReachable) }
        guard let cache else {
            return Self.problem(.serviceUnavailable, "Data not available - router may be unreachable", instance: request.uri.path)
        }
        return Self.json(document(cache, !reachable))
    }

    private func bandwidthHistory(_ request: Request) -> Response {
        let query: PageQuery
        switch pageQuery(request, hours: true) {
        case .success(let value): query = value
        case .failure(let problem): return problem.response
        }
        let samples = store.withLock { store in
            let since = Int64(store.now.timeIntervalSince1970) - Int64(query.hours) * 3_600
            return Array(store.bandwidthHistory.filter { $0.timestamp >= since }.reversed())
        }
        let items: [JSONValue] = samples.map { sample in
            .object([
                "timestamp": .number(Double(sample.timestamp)), "bytes_sent": .number(Double(sample.bytesSent)),
                "bytes_received": .number(Double(sample.bytesReceived)), "upstream_rate": .number(Double(sample.upstreamRate)),
                "downstream_rate": .number(Double(sample.downstreamRate)),
            ])
        }
        return Self.json(Self.slice(items, query))
    }

    private func deviceHistory(_ request: Request) -> Response {
        let query: PageQuery
        switch pageQuery(request, hours: true) {
        case .success(let value): query = value
        case .failure(let problem): return problem.response
        }
        let samples = store.withLock { store in
            let since = Int64(store.now.timeIntervalSince1970) - Int64(query.hours) * 3_600
            return Array(store.deviceHistory.filter { $0.timestamp >= since }.reversed())
        }
        let hides = faults.isEnabled(.emptyMACs)
        let items: [JSONValue] = samples.map { sample in
            .object([
                "timestamp": .number(Double(sample.timestamp)), "ip": .string(sample.client.ip), "name": .string(sample.client.name),
                "mac": .string(sample.client.hidesMAC && hides ? "" : sample.client.mac),
                "is_online": .number(sample.client.isOnline ? 1 : 0),
            ])
        }
        return Self.json(Self.slice(items, query))
    }

    // MARK: Query parameters

    struct PageQuery {
        var limit: Int
        var offset: Int
        var hours: Int
    }

    struct Problem: Error {
        let response: Response
    }

    /// `limit` (1–1000, 100), `offset` (≥ 0, 0) and, for history, `hours` (1–168, 24); 422 otherwise,
    /// except that ``Quirk/clampedLimits`` clamps `limit`. A page never holds more than `maxPageSize`.
    private func pageQuery(_ request: Request, hours: Bool) -> Result<PageQuery, Problem> {
        let parameters = request.uri.queryParameters
        let path = request.uri.path
        func invalid(_ detail: String) -> Result<PageQuery, Problem> {
            .failure(Problem(response: Self.problem(.unprocessableContent, "Invalid input: \(detail)", instance: path)))
        }
        var values: [String: Int] = ["limit": 100, "offset": 0, "hours": 24]
        for name in ["limit", "offset", "hours"] where hours || name != "hours" {
            guard let text = parameters.get(name) else { continue }
            guard let number = Int(text) else { return invalid("\(name) must be an integer") }
            values[name] = number
        }
        var limit = values["limit"] ?? 100
        let offset = values["offset"] ?? 0
        let span = values["hours"] ?? 24
        if !(1...1_000).contains(limit) {
            guard faults.isEnabled(.clampedLimits) else { return invalid("limit must be between 1 and 1000") }
            limit = min(1_000, max(1, limit))
        }
        guard offset >= 0 else { return invalid("offset must be greater than or equal to 0") }
        if hours, !(1...168).contains(span) { return invalid("hours must be between 1 and 168") }
        return .success(PageQuery(limit: min(limit, max(1, configuration.maxPageSize)), offset: offset, hours: span))
    }

    static func slice(_ items: [JSONValue], _ query: PageQuery) -> JSONValue {
        let start = min(query.offset, items.count)
        let end = min(items.count, start + query.limit)
        return page(Array(items[start..<end]), total: items.count, limit: query.limit, offset: query.offset)
    }

    static func formFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            func decode(_ text: String) -> String {
                (text.replacingOccurrences(of: "+", with: " ")).removingPercentEncoding ?? text
            }
            fields[decode(String(name))] = decode(value)
        }
        return fields
    }

    /// A JWT-shaped token: the usual HS256 header, a payload with `sub`, `iat`, `exp` and `jti`, and a random signature.
    static func makeJWT(subject: String, issued: Date, expiry: Date, serial: Int, random: inout SeededRandom) -> String {
        let header = base64URL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload: JSONValue = .object([
            "sub": .string(subject), "iat": .number(Double(Int(issued.timeIntervalSince1970))),
            "exp": .number(Double(Int(expiry.timeIntervalSince1970))), "jti": .string(String(serial)),
        ])
        let signature = base64URL((0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        return "\(header).\(base64URL(payload.jsonBytes)).\(signature)"
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
