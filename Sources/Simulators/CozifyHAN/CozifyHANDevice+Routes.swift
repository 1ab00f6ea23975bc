import BridgeCore
import Hummingbird
import Synchronization

/// The REST paths of the Cozify HAN API.
extension CozifyHANDevice {
    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/han") { _, _ in self.json(self.stateMessage()) }
        router.get("/meter") { _, _ in
            guard let telegram = self.store.withLock({ $0.hasMeterData ? $0.telegrams.last : nil }) else {
                return Response(status: .serviceUnavailable)
            }
            return self.json(telegram)
        }
        router.get("/meter/id") { _, _ in
            guard self.store.withLock({ $0.hasMeterData }) else { return Response(status: .serviceUnavailable) }
            return self.json(self.meterIdentity())
        }
        router.get("/health") { _, _ in self.json(self.healthMessage()) }
        router.get("/configuration") { _, _ in
            self.json(self.store.withLock { $0.configuration.masked() })
        }
        router.post("/configuration") { request, _ in
            var request = request
            let body = try? JSONValue.parse(Array(try await request.collectBody(upTo: 1 << 16).readableBytesView))
            return self.result { () throws(CozifyHANRequestError) -> String in
                try self.updateConfiguration(body)
                return "Configuration updated"
            }
        }
        router.post("/set-up") { request, _ in
            var request = request
            let body = try? JSONValue.parse(Array(try await request.collectBody(upTo: 1 << 16).readableBytesView))
            return self.result { () throws(CozifyHANRequestError) -> String in
                try self.setUp(body)
                return "WiFi configured, rebooting"
            }
        }
        router.get("/scan-networks") { request, _ in
            let start = request.headers.contains { $0.name.canonicalName == "x-scan-start" }
            let fails = self.faults
            let answer = self.store.withLock { $0.scanner.request(start: start, fails: fails.consume(.scanFails), now: .now) }
            return self.json(answer)
        }
        router.get("/sse") { _, _ in self.serverSentEvents() }
        router.get("/ws") { _, _ in
            // Reached only by requests that are not (accepted) WebSocket upgrades.
            self.json(CozifyHANResult(success: false, message: "WebSocket upgrade required"), status: .badRequest)
        }
    }

    /// A JSON answer, with the `Content-Type` the quirks ask for.
    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let contentType = faults.isEnabled(.looseContentType) ? "text/html" : "application/json"
        return JSONResponse.make(value, status: status, contentType: contentType)
    }

    /// `{success: true, message}` from `body`, or 400 with `{success: false, message}` when it throws.
    private func result(_ body: () throws(CozifyHANRequestError) -> String) -> Response {
        do {
            return json(CozifyHANResult(success: true, message: try body()))
        } catch {
            return json(CozifyHANResult(success: false, message: error.message), status: .badRequest)
        }
    }

    /// `POST /configuration`: validates and applies `body` atomically.
    private func updateConfiguration(_ body: JSONValue?) throws(CozifyHANRequestError) {
        let outcome = store.withLock { store in
            Result { () throws(CozifyHANRequestError) in try store.configuration.apply(body) }
        }
        try outcome.get()
    }

    /// `POST /set-up`: `s` (must be true), `ss` and `sp` are required; they become the Wi-Fi settings.
    private func setUp(_ body: JSONValue?) throws(CozifyHANRequestError) {
        guard let object = body?.objectValue else { throw CozifyHANRequestError(message: "body must be a JSON object") }
        guard let enable = object["s"]?.boolValue else { throw CozifyHANRequestError(message: "s is required and must be a boolean") }
        guard enable else { throw CozifyHANRequestError(message: "s must be true") }
        guard let ssid = object["ss"]?.stringValue, !ssid.isEmpty else {
            throw CozifyHANRequestError(message: "ss is required and must be a non-empty string")
        }
        guard let password = object["sp"]?.stringValue else { throw CozifyHANRequestError(message: "sp is required and must be a string") }
        store.withLock { store in
            store.configuration.w.e = true
            store.configuration.w.s = ssid
            store.configuration.w.p = password
        }
    }

    func stateMessage() -> CozifyHANStateMessage {
        let identity = configuration.identity
        let settings = store.withLock { $0.configuration }
        let ethIp = settings.e.e ? (settings.e.n.m == "static" ? settings.e.n.i ?? "0.0.0.0" : "192.168.1.50") : "0.0.0.0"
        let wifiIp = settings.w.e ? (settings.w.n.m == "static" ? settings.w.n.i ?? "0.0.0.0" : "192.168.2.50") : "0.0.0.0"
        return CozifyHANStateMessage(
            uuid: identity.uuid, name: identity.name, model: identity.model, serial: identity.serial,
            version: identity.version, state: "REGISTERED", mac: identity.mac,
            ethIp: ethIp, wifiIp: wifiIp, online: true, channel: identity.channel
        )
    }

    func meterIdentity() -> CozifyHANMeterIdentityMessage {
        let identity = configuration.identity
        return CozifyHANMeterIdentityMessage(
            manufacturerId: identity.manufacturerId, deviceType: identity.deviceType,
            meterId: identity.meterId, meterName: identity.meterName
        )
    }

    func healthMessage() -> CozifyHANHealthMessage {
        let (uptime, boots) = store.withLock { ($0.uptimeMilliseconds, $0.boots) }
        return CozifyHANHealthMessage(
            uuid: configuration.identity.uuid,
            hostname: configuration.identity.name,
            free_heap_size: 182_144 - Int(uptime / 1_000 % 64) * 64,
            minimum_free_heap_size: 176_320,
            cpu_reset_reason: boots > 1 ? "RST_SW" : "RST_POWERON",
            uptime_ms: uptime
        )
    }
}
