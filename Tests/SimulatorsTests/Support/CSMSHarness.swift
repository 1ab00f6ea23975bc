import BridgeCore
import HTTPTypes
import Logging
import Simulators
import Synchronization
import WSClient

extension OCPPCSMSSimulator.Configuration {
    /// A simulator on a free port that ticks only when a test says so, with a short command
    /// timeout (the real server's is 10 s) and remote starts that begin on the next tick.
    static func test(
        quirks: Set<Quirk> = [],
        chargePoints: [OCPPCSMSSimulator.ChargePointSpec] = OCPPCSMSSimulator.ChargePointSpec.defaultSite,
        commandTimeout: Duration = .milliseconds(200),
        seed: UInt64 = 42
    ) -> Self {
        OCPPCSMSSimulator.Configuration(
            port: 0, seed: seed, tickInterval: nil, simulatedStep: .seconds(60), chargePoints: chargePoints,
            commandTimeout: commandTimeout, quirks: quirks)
    }
}

/// The default accounts' credentials.
enum CSMSAccount {
    static let bridge = (username: "bridge@example.com", password: "bridge-password", tag: "TAG001")
    static let driver = (username: "driver@example.com", password: "driver-password", tag: "TAG002")
    static let admin = (username: "admin@example.com", password: "admin-password", tag: "ADMIN01")
}

/// An HTTP client for the CSMS that logs in and sends `Authorization: Bearer <token>`.
final class CSMSClient: Sendable {
    let http: TestHTTPClient
    private let storedToken = Mutex<String?>(nil)

    init(port: Int) {
        self.http = TestHTTPClient(port: port)
    }

    var token: String? { storedToken.withLock { $0 } }

    /// Logs in with a password (or a token when `username` is nil) and keeps the token of the answer.
    @discardableResult
    func login(_ username: String? = CSMSAccount.bridge.username, password: String = CSMSAccount.bridge.password) async throws -> HTTPResult {
        var body: JSONValue = .object(["password": .string(password)])
        if let username { body = .object(["username": .string(username), "password": .string(password)]) }
        let result = try await http.post("/api/v1/users/authenticate", body: body.jsonString)
        if result.status == 200, let token = result.json?["token"]?.string { storedToken.withLock { $0 = token } }
        return result
    }

    func use(token: String?) {
        storedToken.withLock { $0 = token }
    }

    var authorization: [String: String] {
        token.map { ["Authorization": "Bearer \($0)"] } ?? [:]
    }

    func get(_ path: String) async throws -> HTTPResult {
        try await http.get(path, headers: authorization)
    }

    func post(_ path: String, _ body: JSONValue) async throws -> HTTPResult {
        try await http.post(path, body: body.jsonString, headers: authorization)
    }

    /// `POST /api/v1/csc`; returns the HTTP status, the body's `status` and its parsed `info`.
    func csc(_ feature: String, chargePoint: String?, connector: Int? = nil, payload: String? = nil) async throws -> (http: Int, status: String?, info: JSON?) {
        var body: [String: JSONValue] = ["feature_name": .string(feature)]
        if let chargePoint { body["charge_point_id"] = .string(chargePoint) }
        if let connector { body["connector_id"] = .number(Double(connector)) }
        if let payload { body["payload"] = .string(payload) }
        let result = try await post("/api/v1/csc", .object(body))
        let json = result.json
        return (result.status, json?["status"]?.string, json?["info"]?.string.flatMap { JSON.decode($0) })
    }

    func shutdown() async throws {
        try await http.shutdown()
    }
}

/// Starts a simulator and a logged-in client (the bridge account), runs `body`, and always stops both.
func withCSMS<T>(
    _ configuration: OCPPCSMSSimulator.Configuration = .test(),
    login: Bool = true,
    _ body: (OCPPCSMSSimulator, CSMSClient) async throws -> T
) async throws -> T {
    let simulator = OCPPCSMSSimulator(configuration: configuration)
    let port = try await simulator.start()
    let client = CSMSClient(port: port)
    let outcome: Result<T, any Error>
    do {
        if login { try await client.login() }
        outcome = .success(try await body(simulator, client))
    } catch {
        outcome = .failure(error)
    }
    await simulator.stop()
    try await client.shutdown()
    return try outcome.get()
}

/// A `/ws` connection that sends frames and collects every text message the server sends.
final class CSMSSocket: Sendable {
    private struct State {
        var messages: [String] = []
        var ended = false
        var outbox: AsyncStream<String>.Continuation?
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    private init() {}

    static func open(port: Int) -> CSMSSocket {
        let socket = CSMSSocket()
        let (outgoing, continuation) = AsyncStream<String>.makeStream()
        socket.state.withLock { $0.outbox = continuation }
        var logger = Logger(label: "simulators-tests.csms-ws")
        logger.logLevel = .critical
        let task = Task { [socket] in
            _ = try? await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/ws", configuration: .init(maxFrameSize: 1 << 20, closeTimeout: .seconds(5)), logger: logger
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in outgoing { try await outbound.write(.text(text)) }
                    }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { socket.state.withLock { $0.messages.append(text) } }
                    }
                    group.cancelAll()
                }
            }
            socket.state.withLock { $0.ended = true }
        }
        socket.task.withLock { $0 = task }
        return socket
    }

    var messages: [String] { state.withLock { $0.messages } }
    var json: [JSON] { messages.compactMap { JSON.decode($0) } }
    var ended: Bool { state.withLock { $0.ended } }

    /// Sends a command frame.
    func send(_ command: String, token: String?, _ fields: [String: JSONValue] = [:]) {
        var frame = fields
        frame["command"] = .string(command)
        if let token { frame["token"] = .string(token) }
        sendRaw(JSONValue.object(frame).jsonString)
    }

    func sendRaw(_ text: String) {
        _ = state.withLock { $0.outbox }?.yield(text)
    }

    /// Waits for at least `count` messages.
    @discardableResult
    func messages(atLeast count: Int) async throws -> [String] {
        try await eventually("\(count) WebSocket messages (have \(messages.count))") {
            if messages.count < count && ended { throw Hang(what: "messages: the socket ended with \(messages.count)", limit: .zero) }
            return messages.count >= count
        }
        return messages
    }

    /// Waits for a message matching `predicate` and returns it.
    func first(where what: String, _ predicate: @escaping (JSON) -> Bool) async throws -> JSON {
        var found: JSON?
        try await eventually(what) {
            found = json.first(where: predicate)
            if found == nil && ended { throw Hang(what: "\(what): the socket ended", limit: .zero) }
            return found != nil
        }
        return found ?? .null
    }

    /// Waits for at least `count` frames with this `status` and returns them.
    func frames(status: String, atLeast count: Int) async throws -> [JSON] {
        try await eventually("\(count) '\(status)' frames") {
            if ended { throw Hang(what: "'\(status)' frames: the socket ended", limit: .zero) }
            return json.filter { $0["status"]?.string == status }.count >= count
        }
        return json.filter { $0["status"]?.string == status }
    }

    func waitUntilEnded() async throws {
        try await eventually("the end of the WebSocket") { ended }
    }

    func close() async {
        state.withLock { $0.outbox?.finish() }
        task.withLock { $0 }?.cancel()
        _ = await task.withLock { $0 }?.value
    }
}
