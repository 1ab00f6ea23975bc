import BridgeCore
import Foundation
import Hummingbird
import Synchronization

/// The paths of `shared/apis/flowerhub-portal.md`.
extension FlowerHubPortal {
    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/auth/login") { request, _ in
            var request = request
            let body = try? JSONValue.parse(Array(try await request.collectBody(upTo: 1 << 16).readableBytesView))
            return self.login(body)
        }
        router.get("/auth/refresh-token") { request, _ in self.refresh(request) }

        router.get("/asset-owner/:owner") { request, context in
            self.answer(request, owner: context.parameters.get("owner")) { store, account in store.assetOwner(account) }
        }
        router.get("/asset-owner/:owner/withAssetId") { request, context in
            self.answer(request, owner: context.parameters.get("owner")) { store, account in store.assetOwnerWithAssetId(account) }
        }
        router.get("/asset-owner/:owner/electricity-agreement") { request, context in
            self.answer(request, owner: context.parameters.get("owner")) { store, account in store.agreement(account) }
        }
        router.get("/asset-owner/:owner/invoice") { request, context in
            self.answer(request, owner: context.parameters.get("owner")) { store, account in store.invoices(account) }
        }
        router.get("/asset-owner/:owner/consumption") { request, context in
            self.answer(request, owner: context.parameters.get("owner")) { store, account in store.consumptionReadings(account) }
        }
        router.get("/asset-owner/:owner/profile") { request, context in
            self.answer(request, owner: context.parameters.get("owner")) { store, account in store.profile(account) }
        }
        router.get("/asset/:asset") { request, context in
            self.answer(request, asset: context.parameters.get("asset")) { store, account in store.asset(account) }
        }
        for prefix in ["/asset-uptime", "/asset-effective-uptime"] {
            let effective = prefix == "/asset-effective-uptime"
            router.get("\(prefix)/available-months/:asset") { request, context in
                self.uptime(request, effective: effective, asset: context.parameters.get("asset")) { store in store.availableMonths }
            }
            router.get("\(prefix)/bar-chart/history/:asset") { request, context in
                self.uptime(request, effective: effective, asset: context.parameters.get("asset")) { store in store.uptimeHistory }
            }
            router.get("\(prefix)/pie-chart/:asset") { request, context in
                self.uptimePie(request, effective: effective, asset: context.parameters.get("asset"))
            }
        }
        router.get("/system-notification/:name") { request, _ in
            guard self.isAuthenticated(request) else { return self.unauthorized() }
            return Response(status: .ok)
        }
    }

    // MARK: Auth

    private func login(_ body: JSONValue?) -> Response {
        guard let username = body?["username"]?.stringValue, let password = body?["password"]?.stringValue else {
            store.withLock { $0.failedLogins += 1 }
            return Self.nestError(.badRequest, ["username must be a string", "password must be a string"])
        }
        let account = account
        guard username == account.username, password == account.password else {
            store.withLock { $0.failedLogins += 1 }
            return Self.nestError(.unauthorized, "Wrong credentials provided")
        }
        let configuration = configuration
        let (access, refresh, answer) = store.withLock { store in
            store.logins += 1
            let accessExpiry = store.now.addingTimeInterval(Self.seconds(configuration.accessTokenLifetime))
            let refreshExpiry = store.now.addingTimeInterval(Self.seconds(configuration.refreshTokenLifetime))
            let access = store.makeToken(kind: "access", userId: account.userId, expiry: accessExpiry)
            let refresh = store.makeToken(kind: "refresh", userId: account.userId, expiry: refreshExpiry)
            store.accessTokens[access] = accessExpiry
            store.refreshTokens[refresh] = refreshExpiry
            return (access, refresh, store.loginAnswer(account, refreshExpiry: refreshExpiry))
        }
        var response = JSONResponse.make(answer)
        response.headers[values: .setCookie] = [
            setCookie("Authentication", access, maxAge: configuration.accessTokenLifetime),
            setCookie("Refresh", refresh, maxAge: configuration.refreshTokenLifetime),
        ]
        return response
    }

    private func refresh(_ request: Request) -> Response {
        let token = Self.cookies(of: request)["Refresh"]
        let account = account
        let configuration = configuration
        let wraps = faults.isEnabled(.refreshWrapsUser)
        let outcome: (String, JSONValue)? = store.withLock { store in
            guard store.isValid(refresh: token), let token, let refreshExpiry = store.refreshTokens[token] else {
                store.failedRefreshes += 1
                return nil
            }
            store.refreshes += 1
            let accessExpiry = store.now.addingTimeInterval(Self.seconds(configuration.accessTokenLifetime))
            let access = store.makeToken(kind: "access", userId: account.userId, expiry: accessExpiry)
            store.accessTokens[access] = accessExpiry
            // Under the quirk, odd refreshes (the first, third, ...) answer in the login's shape.
            let wrapped = wraps && store.refreshes % 2 == 1
            return (access, wrapped ? store.loginAnswer(account, refreshExpiry: refreshExpiry) : store.user(account))
        }
        guard let outcome else { return Self.nestError(.unauthorized, "Unauthorized") }
        let (access, answer) = outcome
        var response = JSONResponse.make(answer)
        response.headers[values: .setCookie] = [setCookie("Authentication", access, maxAge: configuration.accessTokenLifetime)]
        return response
    }

    func isAuthenticated(_ request: Request) -> Bool {
        let token = Self.cookies(of: request)["Authentication"]
        return store.withLock { $0.isValid(access: token) }
    }

    func unauthorized() -> Response {
        store.withLock { $0.unauthorized += 1 }
        return Self.nestError(.unauthorized, "Unauthorized")
    }

    // MARK: Documents

    /// An authenticated GET of the account's own owner or asset id.
    private func answer(
        _ request: Request,
        owner: String? = nil,
        asset: String? = nil,
        _ build: (FlowerHubStore, FlowerHubSimulator.Account) -> JSONValue
    ) -> Response {
        guard isAuthenticated(request) else { return unauthorized() }
        let account = account
        if let owner, owner != String(account.assetOwnerId) { return Self.nestError(.forbidden, "Forbidden resource") }
        if let asset, asset != String(account.assetId) { return Self.nestError(.forbidden, "Forbidden resource") }
        let value = store.withLock { build($0, account) }
        return document(value, for: request)
    }

    /// An uptime path: 404 under the prefix this deployment does not have (see ``Quirk/effectiveUptimeOnly``).
    private func uptime(_ request: Request, effective: Bool, asset: String?, _ build: @escaping (FlowerHubStore) -> JSONValue) -> Response {
        guard effective == faults.isEnabled(.effectiveUptimeOnly) else {
            return Self.nestError(.notFound, .string("Cannot GET \(request.uri.path)"))
        }
        return answer(request, asset: asset) { store, _ in build(store) }
    }

    private func uptimePie(_ request: Request, effective: Bool, asset: String?) -> Response {
        guard effective == faults.isEnabled(.effectiveUptimeOnly) else {
            return Self.nestError(.notFound, .string("Cannot GET \(request.uri.path)"))
        }
        guard isAuthenticated(request) else { return unauthorized() }
        guard let text = request.uri.queryParameters["period"].map(String.init), let period = FlowerHubMonth(value: text) else {
            return Self.nestError(.badRequest, "period must be in YYYY-MM format")
        }
        guard let pie = store.withLock({ $0.uptimePie(period) }) else {
            return Self.nestError(.notFound, .string("No uptime data for period \(period.value)"))
        }
        return answer(request, asset: asset) { _, _ in pie }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
