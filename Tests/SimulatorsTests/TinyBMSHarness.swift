import BridgeCore
import Foundation
import HTTPTypes
import Logging
import NIOWebSocket
import Simulators
import Synchronization
import WSClient

extension TinyBMSSimulator.Configuration {
    /// A simulator on a free port that never ticks by itself (tests call `tick()`) and whose restarts
    /// last until `finishRestart()`.
    static func test(
        quirks: Set<Quirk> = [],
        credentials: TinyBMSSimulator.Credentials? = nil,
        tickInterval: Duration = .seconds(1),
        seed: UInt64 = 42
    ) -> Self {
        TinyBMSSimulator.Configuration(
            tickInterval: tickInterval, autoTickDelay: nil, seed: seed, port: 0, credentials: credentials,
            bmsRestartDuration: nil, gatewayRebootDuration: nil, quirks: quirks)
    }
}

/// Starts a simulator and a client for it, runs `body`, and always stops both.
func withTinyBMS<T>(
    _ configuration: TinyBMSSimulator.Configuration = .test(),
    keepAlive: Bool = true,
    _ body: (TinyBMSSimulator, TestHTTPClient) async throws -> T
) async throws -> T {
    let simulator = TinyBMSSimulator(configuration: configuration)
    let port = try await simulator.start()
    let http = TestHTTPClient(port: port, keepAlive: keepAlive)
    let outcome: Result<T, any Error>
    do {
        outcome = .success(try await body(simulator, http))
    } catch {
        outcome = .failure(error)
    }
    await simulator.stop()
    try await http.shutdown()
    return try outcome.get()
}

/// The simulator's port; it has one once started.
func port(of simulator: TinyBMSSimulator) throws -> Int {
    guard let port = simulator.port else { throw NotStarted() }
    return port
}

/// `Authorization: Basic …` for `credentials`.
func basicAuthorization(_ username: String, _ password: String) -> String {
    "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
}

/// A WebSocket to the gateway that can also send: the test waits for text messages as they come, sends
/// text frames, or waits for the end of the connection.
final class TinyBMSSocket: Sendable {
    private struct State {
        var messages: [String] = []
        var ending: WebSocketStream.Ending?
    }

    private let state = Mutex(State())
    private let outgoing: AsyncStream<String>.Continuation
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let closing = Flag()

    private init(outgoing: AsyncStream<String>.Continuation) {
        self.outgoing = outgoing
    }

    /// Connects to `ws://127.0.0.1:<port><path>`.
    static func open(port: Int, path: String, headers: HTTPFields = [:]) -> TinyBMSSocket {
        let (sends, continuation) = AsyncStream<String>.makeStream()
        let socket = TinyBMSSocket(outgoing: continuation)
        var logger = Logger(label: "simulators-tests.tinybms-ws")
        logger.logLevel = .critical
        let task = Task { [socket] in
            do {
                let closeFrame = try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)\(path)",
                    configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers, closeTimeout: .seconds(5)),
                    logger: logger
                ) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await text in sends { try await outbound.write(.text(text)) }
                        }
                        group.addTask {
                            for try await message in inbound.messages(maxSize: 1 << 20) {
                                guard case .text(let text) = message else { continue }
                                socket.state.withLock { $0.messages.append(text) }
                            }
                        }
                        _ = try await group.next()
                        group.cancelAll()
                    }
                }
                socket.ended(socket.closing.isSet ? .closedByClient : .closedByServer(code: closeFrame?.closeCode, reason: closeFrame?.reason))
            } catch {
                socket.ended(socket.closing.isSet ? .closedByClient : .failed(error))
            }
        }
        socket.task.withLock { $0 = task }
        return socket
    }

    var messages: [String] { state.withLock { $0.messages } }
    var ending: WebSocketStream.Ending? { state.withLock { $0.ending } }

    /// The messages parsed as JSON.
    var documents: [JSON] { messages.compactMap { JSON.decode($0) } }

    func send(_ text: String) {
        outgoing.yield(text)
    }

    /// Waits until at least `count` messages arrived and returns all of them.
    @discardableResult
    func messages(atLeast count: Int) async throws -> [String] {
        try await eventually("\(count) WebSocket messages (have \(messages.count))") {
            let (messages, ending) = state.withLock { ($0.messages, $0.ending) }
            if messages.count < count, let ending { throw WebSocketEnded(ending: ending, received: messages.count) }
            return messages.count >= count
        }
        return messages
    }

    /// Waits for a message whose JSON satisfies `match` and returns it.
    @discardableResult
    func document(_ what: String, where match: @escaping @Sendable (JSON) -> Bool) async throws -> JSON {
        var found: JSON?
        try await eventually(what) {
            let (messages, ending) = state.withLock { ($0.messages, $0.ending) }
            found = messages.lazy.compactMap { JSON.decode($0) }.first(where: match)
            if found == nil, let ending { throw WebSocketEnded(ending: ending, received: messages.count) }
            return found != nil
        }
        guard let found else { throw Hang(what: what, limit: hangLimit) }
        return found
    }

    /// Waits until the connection ended and says how.
    func end() async throws -> WebSocketStream.Ending {
        try await eventually("the end of the WebSocket connection (have \(messages.count) messages)") { ending != nil }
        return ending ?? .closedByClient
    }

    /// Closes from the client's side and waits until closed.
    func close() async throws {
        closing.set()
        outgoing.finish()
        if ending == nil { task.withLock { $0 }?.cancel() }
        _ = try await end()
    }

    private func ended(_ ending: WebSocketStream.Ending) {
        state.withLock { $0.ending = $0.ending ?? ending }
    }
}

/// Opens a socket and waits until the simulator registered it (so a tick after this reaches it).
func openSocket(_ simulator: TinyBMSSimulator, _ path: String, headers: HTTPFields = [:]) async throws -> TinyBMSSocket {
    let before = simulator.state.socketsOpened[path] ?? 0
    let socket = TinyBMSSocket.open(port: try port(of: simulator), path: path, headers: headers)
    try await eventually("the simulator to register the socket on \(path)") {
        if let ending = socket.ending { throw WebSocketEnded(ending: ending, received: socket.messages.count) }
        return (simulator.state.socketsOpened[path] ?? 0) > before
    }
    return socket
}
