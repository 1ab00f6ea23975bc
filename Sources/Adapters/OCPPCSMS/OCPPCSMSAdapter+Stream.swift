import BridgeCore
import Logging
import SourceKit

/// The `/ws` interface: no auth at the upgrade; every frame carries the token. The adapter sends
/// `ListenChargePoints` after each connect and `PingConnection` as the keep-alive; each charge
/// point event (and the listen answer, i.e. each connect) makes it read `/chp` and
/// `/transactions/active` again and deliver `charge_points`, `connectors` and `transactions`.
/// A frame saying the token is not accepted ends the stream with ``SourceError/unauthorized``
/// after a REST read has logged in again; each stream is one connection (the supervisor
/// reconnects, with the token current then).
extension OCPPCSMSAdapter {
    /// Events arriving within this long of each other cause one refresh.
    static var coalescing: Duration { .milliseconds(250) }
    /// The least time between two refreshes the socket causes: the real server sends events about
    /// every 5 s per charge point, and with many charge points each refresh reads large lists.
    static var refreshGap: Duration { .seconds(2) }
    /// The application keep-alive (`PingConnection`) and protocol ping interval.
    static var keepAliveInterval: Duration { .seconds(30) }

    /// What a frame from the server means to the adapter.
    enum Frame: Equatable {
        /// A charge point event (or the answer to `ListenChargePoints`): read the lists again.
        case refresh
        /// The server no longer accepts the token.
        case unauthorized
        /// Keep-alive answers, frames for charge points outside the allow-list, other frames.
        case ignore
    }

    public var hasStream: Bool { true }

    /// Charge point events arrive only when something changes, so a quiet socket is not a dead
    /// one: the keep-alive answers and protocol pings watch the connection instead.
    public var streamSilence: Duration? { nil }

    public func stream() -> AsyncThrowingStream<SourceDocument, any Error>? {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await self.runStream(continuation)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func runStream(_ continuation: AsyncThrowingStream<SourceDocument, any Error>.Continuation) async throws {
        let token = try await currentToken()
        // Keys render sorted, so `command` comes before `token`: WSClient's trace log shows the
        // first 24 bytes of each frame, which therefore never include the token.
        let listen = JSONValue.object(["command": "ListenChargePoints", "token": .string(token)]).jsonString
        let ping = JSONValue.object(["command": "PingConnection", "token": .string(token)]).jsonString
        var options = WebSocketOptions(
            pingInterval: Self.keepAliveInterval,
            keepAlive: WebSocketOptions.KeepAlive(message: ping, interval: Self.keepAliveInterval),
            greeting: [listen],
            idleTimeout: Self.keepAliveInterval * 3,
            maxConsecutiveFailures: 1)
        // One connection per stream: the supervisor reconnects by calling `stream()` again,
        // which sends the token of the login current then (tokens rotate).
        options.reconnects = false
        let socket = client.webSocket("/ws", options: options)
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals {
                    try? await Task.sleep(for: Self.coalescing)
                    guard !Task.isCancelled else { return }
                    do {
                        for document in try await self.refreshDocuments() { continuation.yield(document) }
                    } catch {
                        // Polling reports read failures; the socket only makes reads come sooner.
                        self.logger.debug("Refresh after a charge point event failed", metadata: ["error": "\(error)"])
                    }
                    // Events meanwhile are kept (one pending signal) and served after the gap.
                    try? await Task.sleep(for: Self.refreshGap)
                }
            }
            for try await text in socket {
                switch Self.classify(text, allowList: allowList) {
                case .refresh: signal.yield(())
                case .unauthorized:
                    // Another login replaced the token. Reading over REST logs in again (the 401
                    // recovery), so the next `stream()` connects with the new token.
                    if let documents = try? await refreshDocuments() {
                        for document in documents { continuation.yield(document) }
                    }
                    throw SourceError.unauthorized
                case .ignore: break
                }
            }
            signal.finish()
            group.cancelAll()
        }
    }

    /// The token of the current login (logging in first if there is none).
    private func currentToken() async throws(SourceError) -> String {
        guard let answer = try await client.establishSession(),
            let token = (try? JSONValue.parse(answer.body))?["token"]?.stringValue, !token.isEmpty
        else { throw SourceError.malformedResponse("the login answer has no token") }
        return token
    }

    /// Reads both lists again (whatever their age) and returns the three documents, as a charge
    /// point event on the WebSocket does.
    public func refreshDocuments() async throws(SourceError) -> [SourceDocument] {
        chargePoints.invalidate()
        sessions.invalidate()
        let points = try await chargePoints.snapshot(maxAge: sharedAge) { await self.fetchList("/chp") }
        let active = try await sessions.snapshot(maxAge: sharedAge) { await self.fetchList("/transactions/active") }
        return [
            SourceDocument(endpoint: "charge_points", document: .array(points.items)),
            SourceDocument(endpoint: "connectors", document: connectorsDocument(chargePoints: points, sessions: active)),
            SourceDocument(endpoint: "transactions", document: .array(active.items)),
        ]
    }

    static func classify(_ text: String, allowList: Set<String>?) -> Frame {
        guard let frame = try? JSONValue.parse(Array(text.utf8)) else { return .ignore }
        let status = frame["status"]?.stringValue
        let stage = frame["stage"]?.stringValue
        if status == "error" {
            let info = frame["info"]?.stringValue?.lowercased() ?? ""
            return info.contains("not authorized") || info.contains("unauthorized") ? .unauthorized : .ignore
        }
        guard stage == "charge-point-event" else { return .ignore }
        if status == "success" { return .refresh }
        guard status == "event" else { return .ignore }
        if let allowList, let point = frame["data"]?.stringValue, !point.isEmpty, !allowList.contains(point) { return .ignore }
        return .refresh
    }
}
