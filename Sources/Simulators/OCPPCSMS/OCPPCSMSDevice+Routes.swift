import BridgeCore
import Foundation
import Hummingbird
import ServiceLifecycle

/// The REST paths of the CSMS API (`/api/v1/...`).
extension OCPPCSMSDevice {
    typealias Handler = @Sendable (Request, BasicRequestContext, OCPPCSMSSimulator.User) async throws -> Response

    /// Paths the simulator knows but does not implement: 501 with a CSMS error body saying so.
    static let unimplemented: [(method: HTTPRequest.Method, path: String)] = [
        (.post, "/api/v1/users/create"), (.put, "/api/v1/users/update/{username}"), (.delete, "/api/v1/users/delete/{username}"),
        (.post, "/api/v1/user-tags/create"), (.put, "/api/v1/user-tags/update/{idTag}"), (.delete, "/api/v1/user-tags/delete/{idTag}"),
        (.post, "/api/v1/payment/save"), (.post, "/api/v1/payment/update"), (.post, "/api/v1/payment/delete"),
        (.post, "/api/v1/payment/order"),
    ]

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/v1/config/{name}") { _, context in
            let name = context.parameters.get("name") ?? ""
            guard name == "app" else { return self.error(.badRequest, "Failed to get config: unknown name '\(name)'") }
            return self.json(.object(["name": .string("app"), "currency": .string("EUR"), "version": .string("1.6.0")]))
        }
        router.post("/api/v1/users/authenticate") { request, _ in
            var request = request
            let body = try? JSONValue.parse(Array(try await request.collectBody(upTo: 1 << 16).readableBytesView))
            guard let password = body?["password"]?.stringValue else {
                return self.error(.unauthorized, "Not authorized: password is required")
            }
            let username = body?["username"]?.stringValue
            let answer: JSONValue? = self.withStore { store in
                guard let user = store.authenticate(username: username, password: password) else { return nil }
                return store.userDocument(user, token: store.tokens[user.username])
            }
            guard let answer else { return self.error(.unauthorized, "Not authorized: invalid credentials") }
            return self.json(answer)
        }
        router.post("/api/v1/users/register") { request, _ in
            var request = request
            let body = try? JSONValue.parse(Array(try await request.collectBody(upTo: 1 << 16).readableBytesView))
            guard let password = body?["password"]?.stringValue, !password.isEmpty else {
                return self.error(.badRequest, "Failed to decode user data: password is required")
            }
            let username = body?["username"]?.stringValue ?? body?["email"]?.stringValue ?? ""
            let answer: JSONValue? = self.withStore { store in
                guard !username.isEmpty, !store.users.contains(where: { $0.username == username }) else { return nil }
                let user = OCPPCSMSSimulator.User(
                    username: username, password: password, name: body?["name"]?.stringValue ?? "", idTags: [])
                store.users.append(user)
                store.tokens[username] = store.newToken()
                return store.userDocument(user, token: store.tokens[username])
            }
            guard let answer else { return self.error(.internalServerError, "Failed to save user: username missing or taken") }
            return self.json(answer)
        }
        authenticated(router, .get, "/api/v1/users/info/{name}") { _, context, user in
            let name = context.parameters.get("name") ?? ""
            guard name == user.username || ["admin", "operator"].contains(user.role) else {
                return self.error(.forbidden, "Access denied")
            }
            let answer: JSONValue? = self.withStore { store in
                store.users.first { $0.username == name }.map { store.userInfoDocument($0) }
            }
            return answer.map { self.json($0) } ?? self.error(.notFound, "User not found: \(name)")
        }
        authenticated(router, .get, "/api/v1/users/list") { _, _, user in
            self.json(
                self.withStore { store in
                    .array(store.users.filter { ["admin", "operator"].contains(user.role) || $0 == user }.map { store.userDocument($0, token: nil) })
                })
        }
        authenticated(router, .get, "/api/v1/user-tags/list") { _, _, user in
            guard ["admin", "operator"].contains(user.role) else { return self.error(.forbidden, "Access denied") }
            return self.json(
                self.withStore { store in
                    store.list(store.users.flatMap { owner in owner.idTags.map { store.userTagDocument($0, owner: owner) } })
                })
        }
        authenticated(router, .get, "/api/v1/user-tags/info/{idTag}") { _, context, user in
            guard ["admin", "operator"].contains(user.role) else { return self.error(.forbidden, "Access denied") }
            let tag = context.parameters.get("idTag") ?? ""
            let answer: JSONValue? = self.withStore { store in
                store.users.first { $0.idTags.contains(tag) }.map { store.userTagDocument(tag, owner: $0) }
            }
            return answer.map { self.json($0) } ?? self.error(.notFound, "Tag not found: \(tag)")
        }
        authenticated(router, .get, "/api/v1/locations") { _, _, _ in
            self.json(self.withStore { $0.locations() })
        }
        authenticated(router, .get, "/api/v1/chp") { _, _, _ in
            self.bytes(self.withStore { $0.chargePointsBytes() })
        }
        authenticated(router, .get, "/api/v1/chp/{search}") { _, context, _ in
            let search = context.parameters.get("search") ?? ""
            return self.json(self.withStore { $0.search(search) })
        }
        authenticated(router, .get, "/api/v1/point/{id}") { _, context, _ in
            let id = context.parameters.get("id") ?? ""
            guard let answer = self.withStore({ store in store.chargePoint(id).map { store.chargePointDocument($0) } }) else {
                return self.unknownPoint(id)
            }
            return self.json(answer)
        }
        authenticated(router, .post, "/api/v1/point/{id}") { request, context, user in
            let id = context.parameters.get("id") ?? ""
            var request = request
            guard let body = try? JSONValue.parse(Array(try await request.collectBody(upTo: 1 << 16).readableBytesView)), body.objectValue != nil
            else { return self.error(.badRequest, "Failed to decode charge point data") }
            guard ["admin", "operator", "user"].contains(user.role) else { return self.error(.forbidden, "Access denied") }
            guard let answer = self.withStore({ store in store.update(id, with: body) }) else { return self.unknownPoint(id) }
            return self.json(answer)
        }
        authenticated(router, .get, "/api/v1/transactions/active") { _, _, user in
            self.json(self.withStore { store in store.list(store.activeTransactions(tags: user.idTags).map { store.chargeStateDocument($0) }) })
        }
        authenticated(router, .get, "/api/v1/transactions/list") { request, _, user in
            let query = request.uri.queryParameters
            let filterCP = query["charge_point_id"].map(String.init)
            let filterTag = query["id_tag"].map(String.init)
            let filterUser = query["username"].map(String.init)
            let isStaff = ["admin", "operator"].contains(user.role)
            let filtered = isStaff && (filterCP != nil || filterTag != nil || filterUser != nil)
            return self.json(
                self.withStore { store in
                    let tags = filtered ? store.users.flatMap(\.idTags) : user.idTags
                    let list = store.transactions(tags: tags).filter { transaction in
                        guard filtered else { return true }
                        if let filterCP, transaction.chargePointID != filterCP { return false }
                        if let filterTag, transaction.idTag != filterTag { return false }
                        if let filterUser, !(store.users.first { $0.username == filterUser }?.idTags.contains(transaction.idTag) ?? false) {
                            return false
                        }
                        return true
                    }
                    return store.list(list.map { store.transactionDocument($0) })
                })
        }
        authenticated(router, .get, "/api/v1/transactions/list/{period}") { _, context, user in
            let period = context.parameters.get("period") ?? ""
            let days: Double? = ["day": 1, "week": 7, "month": 31, "year": 366][period]
            guard let days else { return self.error(.badRequest, "Unknown period '\(period)': use day, week, month or year") }
            return self.json(
                self.withStore { store in
                    let since = store.now.addingTimeInterval(-days * 86_400)
                    return store.list(store.transactions(tags: user.idTags).filter { $0.timeStart >= since }.map { store.transactionDocument($0) })
                })
        }
        authenticated(router, .get, "/api/v1/transactions/recent") { _, _, user in
            self.json(
                self.withStore { store in
                    var seen: [String] = []
                    for transaction in store.transactions(tags: user.idTags) where !seen.contains(transaction.chargePointID) {
                        seen.append(transaction.chargePointID)
                    }
                    return store.list(seen.compactMap { store.chargePoint($0) }.map { store.chargePointDocument($0) })
                })
        }
        authenticated(router, .get, "/api/v1/transactions/info/{id}") { _, context, _ in
            guard let id = context.parameters.get("id", as: Int.self) else { return self.error(.badRequest, "Invalid transaction id") }
            guard let answer = self.withStore({ store in store.transactions[id].map { store.transactionDocument($0) } }) else {
                return self.error(.notFound, "Transaction not found: \(id)")
            }
            return self.json(answer)
        }
        authenticated(router, .get, "/api/v1/payment/methods") { _, _, user in
            self.json(
                .array([
                    .object([
                        "description": .string("My Visa Card"), "identifier": .string("pm_123abc"), "card_number": .string("****1234"),
                        "card_type": .string("credit"), "card_brand": .string("visa"), "card_country": .string("FI"),
                        "expiry_date": .string("12/29"), "is_default": .bool(true), "user_name": .string(user.username),
                    ])
                ]))
        }
        for kind in ["month", "user", "charger"] {
            authenticated(router, .get, RouterPath("/api/v1/report/\(kind)")) { request, _, _ in
                let query = request.uri.queryParameters
                guard let from = query["from"].map(String.init), let to = query["to"].map(String.init), !from.isEmpty, !to.isEmpty else {
                    return self.error(.badRequest, "from and to are required (YYYY-MM-DD)")
                }
                return self.json(self.withStore { $0.report(kind, from: from, to: to) })
            }
        }
        authenticated(router, .post, "/api/v1/csc") { request, _, _ in
            var request = request
            let body = try? JSONValue.parse(Array(try await request.collectBody(upTo: 1 << 16).readableBytesView))
            guard let body, body.objectValue != nil else { return self.error(.badRequest, "Failed to decode command") }
            return await self.centralSystemCommand(body)
        }
        authenticated(router, .get, "/api/v1/log/{name}") { _, _, _ in
            self.json(
                self.withStore { store in
                    .array(
                        store.log.map {
                            .object(["time": OCPPCSMSStore.time($0.time), "level": .string($0.level), "text": .string($0.text)])
                        })
                })
        }
        for (method, path) in Self.unimplemented {
            authenticated(router, method, RouterPath(path)) { _, _, _ in
                self.error(.notImplemented, "\(method) \(path) is not implemented by the simulator")
            }
        }
        router.get("/ws") { _, _ in
            // Reached only by requests that are not (accepted) WebSocket upgrades.
            self.error(.badRequest, "WebSocket upgrade required")
        }
    }

    /// Adds a route that needs a valid token (401 with the CSMS error body otherwise).
    private func authenticated(_ router: Router<BasicRequestContext>, _ method: HTTPRequest.Method, _ path: RouterPath, _ handler: @escaping Handler) {
        router.on(path, method: method) { request, context -> Response in
            guard let user = self.user(request) else { return self.unauthorized() }
            return try await handler(request, context, user)
        }
    }

    /// 404, or 400 under ``Quirk/unknownPoint400``.
    private func unknownPoint(_ id: String) -> Response {
        faults.isEnabled(.unknownPoint400)
            ? error(.badRequest, "Failed to get charge point: \(id) not found") : error(.notFound, "Charge point not found: \(id)")
    }

    /// `POST /csc`: HTTP 200 whatever happened; a charger that does not answer makes the CSMS wait
    /// its command timeout first.
    func centralSystemCommand(_ body: JSONValue) async -> Response {
        let faults = faults
        let outcome = withStore { store in
            store.command(
                chargePointID: body["charge_point_id"]?.stringValue,
                connectorID: body["connector_id"]?.numberValue.map { Int($0) },
                feature: body["feature_name"]?.stringValue ?? "",
                payload: body["payload"]?.stringValue ?? body["payload"].flatMap { $0.isNull ? nil : $0.jsonString },
                rejects: { faults.consume(.rejectCommands) },
                fails: { faults.consume(.commandErrors) })
        }
        switch outcome {
        case .answered(let info):
            return json(.object(["status": .string("success"), "info": .string(info.jsonString)]))
        case .failed(let message):
            return json(.object(["status": .string("error"), "info": .string(JSONValue.object(["error": .string(message)]).jsonString)]))
        case .noAnswer(let id):
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.configuration.commandTimeout) }
            let message = "timeout: charge point \(id) did not answer"
            return json(.object(["status": .string("error"), "info": .string(JSONValue.object(["error": .string(message)]).jsonString)]))
        }
    }
}

extension OCPPCSMSStore {
    /// `POST /point/{id}`: applies the writable fields present; returns the updated charge point.
    mutating func update(_ id: String, with body: JSONValue) -> JSONValue? {
        guard let position = index[id] else { return nil }
        if let enabled = body["is_enabled"]?.boolValue, enabled != chargePoints[position].isEnabled {
            chargePoints[position].isEnabled = enabled
            chargePointEvent(position, enabled ? "Enabled" : "Disabled", connector: nil)
            addLog("info", "\(id): \(enabled ? "enabled" : "disabled")")
        }
        if let title = body["title"]?.stringValue { chargePoints[position].title = title }
        if let description = body["description"]?.stringValue { chargePoints[position].description = description }
        if let address = body["address"]?.stringValue { chargePoints[position].address = address }
        if let accessType = body["access_type"]?.stringValue { chargePoints[position].accessType = accessType }
        revision += 1
        return chargePointDocument(chargePoints[position])
    }

    /// `/report/{kind}`: sessions started between `from` and `to` (inclusive, `YYYY-MM-DD`), summed
    /// per month, per user or per charger.
    func report(_ kind: String, from: String, to: String) -> JSONValue {
        let all = transactionOrder.compactMap { transactions[$0] }.filter { transaction in
            let day = String(transaction.timeStart.formatted(.iso8601).prefix(10))
            return day >= from && day <= String(to.prefix(10))
        }
        let groups = Dictionary(grouping: all) { transaction -> String in
            switch kind {
            case "month": String(transaction.timeStart.formatted(.iso8601).prefix(7))
            case "user": users.first { $0.idTags.contains(transaction.idTag) }?.username ?? transaction.idTag
            default: transaction.chargePointID
            }
        }
        let key = ["month": "month", "user": "username", "charger": "charge_point_id"][kind] ?? kind
        return list(
            groups.keys.sorted().map { name in
                let items = groups[name] ?? []
                return .object([
                    key: .string(name),
                    "count": .number(Double(items.count)),
                    "consumed": .number(Double(items.reduce(0) { $0 + $1.consumed })),
                    "price": .number(Double(items.reduce(0) { $0 + price($1) })),
                ])
            })
    }
}
