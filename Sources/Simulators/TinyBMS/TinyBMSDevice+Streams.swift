import BridgeCore
import Hummingbird
import HummingbirdWebSocket
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// The WebSockets of the gateway: `/ws/telemetry` (the latest frame on connect, then one per tick),
/// `/ws/events`, `/ws/alerts` (the active alerts on connect, then each new alert and the list after
/// every acknowledgement), `/ws/uart` and `/ws/can`. JSON `{"type":"ping"}` gets a pong unless
/// ``Quirk/tinyBMSNoJSONPing``; protocol pings are always answered.
extension TinyBMSDevice {
    /// Pause between a new WebSocket's snapshot and its close under ``Fault/dropStreams``.
    static var dropGrace: Duration { .milliseconds(100) }

    func addWebSocketRoutes(to router: Router<BasicWebSocketRequestContext>) {
        for path in Self.socketPaths {
            router.ws(RouterPath(path)) { inbound, outbound, _ in
                try await self.serveSocket(path: path, inbound: inbound, outbound: outbound)
            }
        }
    }

    /// The messages a new socket on `path` starts with.
    func initialMessages(path: String) -> [String] {
        switch path {
        case Self.telemetryPath:
            let (restarting, frame, siFrame) = store.withLock { ($0.bmsRestarting, $0.lastFrame, $0.lastSIFrame) }
            guard !restarting, store.withLock({ $0.telemetryFrames }) > 0 else { return [] }
            // Deployed firmware: the first frame after connecting is the bare object.
            let first = faults.isEnabled(.tinyBMSWrappedTelemetry) ? siFrame : frame
            return first.map { [$0.jsonString] } ?? []
        case Self.alertsPath:
            return [activeAlertsMessage().jsonString]
        default:
            return []
        }
    }

    /// `message` as it goes out: telemetry wrapped after the first frame (deployed firmware), and
    /// truncated under ``Fault/malformedJSON``.
    func wireText(_ text: String, path: String, framesSent: Int) -> String {
        var text = text
        if path == Self.telemetryPath, framesSent > 0, faults.isEnabled(.tinyBMSWrappedTelemetry) {
            text = #"{"battery":"# + text + "}"
        }
        return faults.isActive(.malformedJSON, for: path) ? JSONResponse.malformed(text) : text
    }

    private func serveSocket(path: String, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        guard let hub = hubs[path] else { return }
        let subscription = hub.subscribe(path: path)
        let socket = sockets.open(path: path, subscription: subscription, limit: socketLimit)
        defer { sockets.close(socket) }
        var framesSent = 0
        for text in initialMessages(path: path) {
            try await outbound.write(.text(wireText(text, path: path, framesSent: framesSent)))
            framesSent += 1
        }
        if faults.isActive(.dropStreams, for: path) {
            subscription.close()
            // Let the client settle first: WSClient 1.6.2 can stall for good when a close arrives
            // within moments of the 101 response.
            try? await Task.sleep(for: Self.dropGrace)
            try? await outbound.close(.normalClosure, reason: "stream dropped")
            return
        }
        let framesAtStart = framesSent
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await message in inbound.messages(maxSize: 1 << 16) {
                    self.sockets.touch(socket)
                    guard case .text(let text) = message, (try? JSONValue.parse(Array(text.utf8)))?["type"]?.stringValue == "ping" else {
                        continue
                    }
                    self.sockets.recordJSONPing()
                    guard !self.faults.isEnabled(.tinyBMSNoJSONPing) else { continue }
                    let now = self.store.withLock { self.configuration.epochMilliseconds + $0.simulatedMs }
                    let pong: JSONValue = ["type": "pong", "timestamp_ms": .number(Double(now))]
                    try await outbound.write(.text(pong.jsonString))
                }
            }
            group.addTask {
                var framesSent = framesAtStart
                for await message in subscription.messages {
                    try await outbound.write(.text(self.wireText(message.data, path: path, framesSent: framesSent)))
                    framesSent += 1
                }
                if self.sockets.isEvicted(socket) {
                    try? await outbound.close(.goingAway, reason: "socket limit: least recently used")
                } else {
                    try? await outbound.close(.normalClosure, reason: "stream closed")
                }
            }
            _ = try await group.next()
            subscription.close()
            group.cancelAll()
        }
    }
}
