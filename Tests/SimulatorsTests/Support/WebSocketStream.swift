import BridgeCore
import HTTPTypes
import NIOWebSocket
import Logging
import Synchronization
import WSClient

/// A WebSocket connection to a simulator read in the background: the test waits for text messages as
/// they come, or for the end of the connection.
final class WebSocketStream: Sendable {
    /// How a connection ended.
    enum Ending: Sendable {
        /// The server closed the connection; its close frame, if it sent one.
        case closedByServer(code: WebSocketErrorCode?, reason: String?)
        /// The client closed it (``close()``, or `closeAfter` messages arrived).
        case closedByClient
        /// Connecting or reading failed (e.g. the upgrade was refused).
        case failed(any Error)
    }

    private struct State {
        var messages: [String] = []
        var ending: Ending?
    }

    private let state = Mutex(State())
    private let closing = Flag()
    private let task = Mutex<Task<Void, Never>?>(nil)

    private init() {}

    /// Connects to `ws://127.0.0.1:<port><path>` and reads until the server closes, ``close()`` is
    /// called, or `closeAfter` text messages arrived.
    static func open(port: Int, path: String = "/ws", headers: HTTPFields = [:], closeAfter: Int? = nil) -> WebSocketStream {
        let stream = WebSocketStream()
        var logger = Logger(label: "simulators-tests.ws")
        logger.logLevel = .critical
        let task = Task { [stream] in
            do {
                let closeFrame = try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)\(path)",
                    configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers, closeTimeout: .seconds(5)),
                    logger: logger
                ) { inbound, _, _ in
                    var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    while !stream.closing.isSet, let message = try await iterator.next() {
                        guard case .text(let text) = message else { continue }
                        if stream.received(text, closeAfter: closeAfter) { stream.closing.set() }
                    }
                }
                stream.ended(
                    stream.closing.isSet
                        ? .closedByClient : .closedByServer(code: closeFrame?.closeCode, reason: closeFrame?.reason)
                )
            } catch {
                stream.ended(stream.closing.isSet ? .closedByClient : .failed(error))
            }
        }
        stream.task.withLock { $0 = task }
        return stream
    }

    /// The text messages so far.
    var messages: [String] { state.withLock { $0.messages } }

    /// How the connection ended; `nil` while it is open.
    var ending: Ending? { state.withLock { $0.ending } }

    /// Waits until at least `count` messages arrived and returns all of them.
    /// - Throws: ``Hang`` when they do not arrive, ``WebSocketEnded`` when the connection ends first.
    @discardableResult
    func messages(atLeast count: Int) async throws -> [String] {
        try await eventually("\(count) WebSocket messages (have \(messages.count))") {
            let (messages, ending) = state.withLock { ($0.messages, $0.ending) }
            if messages.count < count, let ending { throw WebSocketEnded(ending: ending, received: messages.count) }
            return messages.count >= count
        }
        return messages
    }

    /// Waits until the connection ended and says how.
    func end() async throws -> Ending {
        try await eventually("the end of the WebSocket connection (have \(messages.count) messages)") { ending != nil }
        return ending ?? .closedByClient
    }

    /// Closes the connection from the client's side (a no-op when it ended) and waits until it is closed.
    func close() async throws {
        closing.set()
        if ending == nil { task.withLock { $0 }?.cancel() }
        _ = try await end()
    }

    /// Records a message; returns whether `closeAfter` is reached.
    private func received(_ text: String, closeAfter: Int?) -> Bool {
        state.withLock { state in
            state.messages.append(text)
            return closeAfter.map { state.messages.count >= $0 } ?? false
        }
    }

    private func ended(_ ending: Ending) {
        state.withLock { $0.ending = $0.ending ?? ending }
    }
}

/// The connection ended before what a test waited for arrived.
struct WebSocketEnded: Error, CustomStringConvertible {
    let ending: WebSocketStream.Ending
    let received: Int

    var description: String { "the WebSocket ended (\(ending)) after \(received) messages" }
}

extension WebSocketStream.Ending {
    /// The server's close code when the server closed the connection.
    var serverCloseCode: WebSocketErrorCode?? {
        if case .closedByServer(let code, _) = self { code } else { nil }
    }

    var isClosedByServer: Bool {
        if case .closedByServer = self { true } else { false }
    }

    /// The error when connecting or reading failed.
    var error: (any Error)? {
        if case .failed(let error) = self { error } else { nil }
    }
}
