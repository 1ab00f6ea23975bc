import Hummingbird
import HummingbirdWebSocket
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// The event streams of the Cozify HAN API: `/sse` and `/ws` send a `HAN_STATE_MESSAGE` snapshot,
/// then every meter telegram.
extension CozifyHANDevice {
    /// Pause between a new WebSocket's snapshot and its close under ``Fault/dropStreams``.
    static var dropGrace: Duration { .milliseconds(100) }

    /// The messages a new stream starts with.
    func initialStreamMessages() -> [StreamMessage] {
        let state = stateMessage()
        var messages = [StreamMessage(event: state.type, data: JSONResponse.string(state))]
        if faults.isEnabled(.unknownMessageTypes) {
            var settings = store.withLock { $0.configuration.masked() }
            settings.type = "HAN_CONFIGURATION_MESSAGE"
            messages.append(StreamMessage(event: settings.type, data: JSONResponse.string(settings)))
        }
        return messages
    }

    /// `message`'s JSON as it goes out on `path` (truncated under ``Fault/malformedJSON``).
    func wireText(_ message: StreamMessage, path: String) -> String {
        faults.isActive(.malformedJSON, for: path) ? JSONResponse.malformed(message.data) : message.data
    }

    func serverSentEvents() -> Response {
        let path = "/sse"
        let keepAlive = faults.isEnabled(.sseKeepAlive)
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                let subscription = self.hub.subscribe(path: path)
                if keepAlive { try await writer.write(ByteBuffer(string: "retry: 5000\n\n")) }
                for message in self.initialStreamMessages() {
                    try await writer.write(self.serverSentEvent(message, path: path, keepAlive: keepAlive))
                }
                if self.faults.isActive(.dropStreams, for: path) { subscription.close() }
                try await withGracefulShutdownHandler {
                    for await message in subscription.messages {
                        try await writer.write(self.serverSentEvent(message, path: path, keepAlive: keepAlive))
                    }
                } onGracefulShutdown: {
                    subscription.close()
                }
                try await writer.finish(nil)
            }
        )
    }

    private func serverSentEvent(_ message: StreamMessage, path: String, keepAlive: Bool) -> ByteBuffer {
        let event = StreamMessage(event: message.event, data: wireText(message, path: path)).serverSentEvent
        return ByteBuffer(string: keepAlive ? ": keep-alive\n\n" + event : event)
    }

    func addWebSocketRoute(to router: Router<BasicWebSocketRequestContext>) {
        let path = "/ws"
        router.ws("/ws") { inbound, outbound, _ in
            let subscription = self.hub.subscribe(path: path)
            for message in self.initialStreamMessages() {
                try await outbound.write(.text(self.wireText(message, path: path)))
            }
            if self.faults.isActive(.dropStreams, for: path) {
                subscription.close()
                // Let the client settle first: WSClient 1.6.2 can stall for good (no data, no close)
                // when a close arrives within moments of the 101 response.
                try? await Task.sleep(for: Self.dropGrace)
                try? await outbound.close(.normalClosure, reason: "stream dropped")
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in inbound {}
                }
                group.addTask {
                    for await message in subscription.messages {
                        try await outbound.write(.text(self.wireText(message, path: path)))
                    }
                    try? await outbound.close(.normalClosure, reason: "stream closed")
                }
                // Whichever ends first ends the connection: the client left, or the stream was
                // dropped/shut down and we sent close. The close reply is not awaited here:
                // WebSocketHandler waits for it (at most `closeTimeout`) and closes the channel.
                _ = try await group.next()
                subscription.close()
                group.cancelAll()
            }
        }
    }
}

