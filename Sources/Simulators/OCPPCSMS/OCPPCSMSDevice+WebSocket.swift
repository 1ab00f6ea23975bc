import BridgeCore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// The `/ws` interface: no auth at the upgrade; every frame the client sends carries `token` and
/// `command`. The server greets with `{"status": "ping", ...}`, answers each command, and pushes
/// what the connection listens to: charge point events (`ListenChargePoints`), meter values of a
/// transaction (`ListenTransaction`, on every tick) and log events (`ListenLog`).
extension OCPPCSMSDevice {
    static let webSocketPath = "/ws"
    /// Pause between the greeting and the close under ``Fault/dropStreams``.
    static var dropGrace: Duration { .milliseconds(100) }

    /// What one connection listens to.
    struct Listening: Sendable {
        var chargePoints = false
        var log = false
        var transactions: Set<Int> = []

        /// Whether a hub message (by its event name) goes to this connection; a transaction's
        /// stop frame ends listening to it.
        mutating func wants(_ event: String) -> Bool {
            switch event {
            case "charge-point": return chargePoints
            case "log": return log
            default:
                guard event.hasPrefix("transaction:"), let id = Int(event.dropFirst("transaction:".count)) else { return false }
                return transactions.contains(id)
            }
        }
    }

    /// A connection's ``Listening``, shared by its reader and its forwarder.
    final class ListeningBox: Sendable {
        let state = Mutex(Listening())

        func wants(_ event: String) -> Bool { state.withLock { $0.wants(event) } }
        func update(_ body: (inout Listening) -> Void) { state.withLock { body(&$0) } }
    }

    var greeting: String {
        JSONValue.object(["status": .string("ping"), "stage": .string("info"), "info": .string("connected")]).jsonString
    }

    /// `text` as it goes out (truncated under ``Fault/malformedJSON``).
    func wireText(_ text: String) -> String {
        faults.isActive(.malformedJSON, for: Self.webSocketPath) ? JSONResponse.malformed(text) : text
    }

    func addWebSocketRoute(to router: Router<BasicWebSocketRequestContext>) {
        router.ws(RouterPath(Self.webSocketPath)) { inbound, outbound, _ in
            let subscription = self.hub.subscribe(path: Self.webSocketPath)
            try await outbound.write(.text(self.wireText(self.greeting)))
            if self.faults.isActive(.dropStreams, for: Self.webSocketPath) {
                subscription.close()
                try? await Task.sleep(for: Self.dropGrace)
                try? await outbound.close(.normalClosure, reason: "stream dropped")
                return
            }
            let listening = ListeningBox()
            let (replies, replyContinuation) = AsyncStream<String>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        guard case .text(let text) = message else { continue }
                        replyContinuation.yield(self.answer(text, listening: listening))
                    }
                    replyContinuation.finish()
                }
                group.addTask {
                    for await message in subscription.messages where listening.wants(message.event) {
                        replyContinuation.yield(message.data)
                    }
                    replyContinuation.finish()
                }
                for await text in replies {
                    try await outbound.write(.text(self.wireText(text)))
                }
                subscription.close()
                try? await outbound.close(.normalClosure, reason: "stream closed")
                group.cancelAll()
            }
        }
    }

    /// The answer to one client frame.
    func answer(_ text: String, listening: ListeningBox) -> String {
        func reply(_ status: String, _ stage: String, _ info: String, _ fields: [String: JSONValue] = [:]) -> String {
            withStore { $0.frame(status: status, stage: stage, info: info, fields: fields) }
        }
        guard let request = try? JSONValue(parsing: text), request.objectValue != nil else {
            return reply("error", "info", "invalid request: not a JSON object")
        }
        guard let token = request["token"]?.stringValue, let user = store.withLock({ $0.user(token: token) }) else {
            return reply("error", "info", "not authorized")
        }
        let chargePointID = request["charge_point_id"]?.stringValue
        let connectorID = request["connector_id"]?.numberValue.map { Int($0) }
        let transactionID = request["transaction_id"]?.numberValue.map { Int($0) }
        switch request["command"]?.stringValue ?? "" {
        case "PingConnection":
            return reply("ping", "info", "pong")
        case "ListenChargePoints":
            listening.update { $0.chargePoints = true }
            return reply("success", "charge-point-event", "listening to charge point events")
        case "ListenLog":
            listening.update { $0.log = true }
            return reply("success", "log-event", "listening to log events")
        case "ListenTransaction":
            guard let transactionID, store.withLock({ $0.transactions[transactionID].map { !$0.isFinished } ?? false }) else {
                return reply("error", "info", "transaction not found or finished: \(transactionID.map(String.init) ?? "none")")
            }
            listening.update { _ = $0.transactions.insert(transactionID) }
            return reply("success", "info", "listening to transaction \(transactionID)", ["id": .number(Double(transactionID))])
        case "StopListenTransaction":
            if let transactionID { listening.update { _ = $0.transactions.remove(transactionID) } }
            return reply("success", "info", "stopped listening")
        case "CheckStatus":
            return withStore { store in
                let active = store.activeTransactions(tags: user.idTags)
                guard let first = active.first else { return store.frame(status: "success", stage: "info", info: "no active transaction", fields: [:]) }
                let status = store.chargePoint(first.chargePointID)?.connectors.first { $0.id == first.connectorID }?.status ?? ""
                return store.frame(
                    status: "success", stage: "info", info: "active transaction: \(first.id)",
                    fields: [
                        "id": .number(Double(first.id)), "connector_id": .number(Double(first.connectorID)),
                        "connector_status": .string(status), "power_rate": .number(Double(first.power)),
                    ])
            }
        case "StartTransaction", "StopTransaction":
            let isStart = request["command"]?.stringValue == "StartTransaction"
            let outcome = withStore { store in
                store.command(
                    chargePointID: chargePointID, connectorID: connectorID,
                    feature: isStart ? "RemoteStartTransaction" : "RemoteStopTransaction",
                    payload: isStart ? user.idTags.first : transactionID.map(String.init), rejects: { false }, fails: { false })
            }
            let stage = isStart ? "start" : "stop"
            switch outcome {
            case .answered(let info) where info["status"]?.stringValue == "Accepted":
                return reply("success", stage, isStart ? "Remote start accepted" : "Remote stop accepted")
            case .answered(let info):
                return reply("error", stage, "charge point answered \(info["status"]?.stringValue ?? info.jsonString)")
            case .failed(let message):
                return reply("error", stage, message)
            case .noAnswer(let id):
                return reply("error", stage, "timeout: charge point \(id) did not answer")
            }
        default:
            return reply("error", "info", "unknown command: \(request["command"]?.stringValue ?? "none")")
        }
    }
}
