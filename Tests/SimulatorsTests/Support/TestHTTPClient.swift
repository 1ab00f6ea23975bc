import BridgeCore
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One HTTP answer, read whole.
struct HTTPResult: Sendable {
    var status: Int
    /// Header fields by lower-case name.
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as JSON, `nil` when it does not parse.
    var json: JSON? { JSON.decode(body) }
}

/// An AsyncHTTPClient talking to one simulator on 127.0.0.1.
///
/// Its timeouts are hang detectors only (see ``hangLimit``): a slow machine must not fail a test.
final class TestHTTPClient: Sendable {
    let client: HTTPClient
    let baseURL: String
    let keepAlive: Bool

    /// - Parameters:
    ///   - keepAlive: `false` sends `Connection: close`, so no request meets a pooled connection
    ///     that the simulator dropped while stopping or restarting.
    ///   - connectTimeout: How long a request keeps trying to connect; a refused connection is
    ///     retried until then, so a client that expects "down" can use a short one.
    init(port: Int, keepAlive: Bool = true, connectTimeout: TimeAmount = .seconds(10)) {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: connectTimeout, read: nil))
        configuration.connectionPool = .init(idleTimeout: .seconds(5))
        self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.baseURL = "http://127.0.0.1:\(port)"
        self.keepAlive = keepAlive
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await send("GET", path, headers: headers)
    }

    func post(_ path: String, body: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        var headers = headers
        if headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
        return try await send("POST", path, body: body, headers: headers)
    }

    /// Sends a request and reads the whole answer (at most ``hangLimit``).
    func send(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> HTTPResult {
        let response = try await client.execute(request(method, path, body: body, headers: headers), timeout: .seconds(60))
        let buffer = try await withDeadline("the body of \(method) \(path)") { try await response.body.collect(upTo: 1 << 22) }
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return HTTPResult(status: Int(response.status.code), headers: fields, body: Array(buffer.readableBytesView))
    }

    /// Opens a streaming GET (for SSE); returns once the head arrived, the caller reads the body.
    func stream(_ path: String, headers: [String: String] = [:]) async throws -> HTTPClientResponse {
        try await client.execute(request("GET", path, headers: headers), timeout: .seconds(60))
    }

    func shutdown() async throws {
        try await client.shutdown()
    }

    private func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String]) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .RAW(value: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if !keepAlive { request.headers.replaceOrAdd(name: "Connection", value: "close") }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        return request
    }
}
