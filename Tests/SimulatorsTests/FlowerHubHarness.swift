import AsyncHTTPClient
import BridgeCore
import Foundation
import NIOCore
import NIOHTTP1
import Simulators
import Synchronization

/// 2026-03-14T10:00:00Z: the simulated clock's start in the tests (13 days and 10 hours into March).
let flowerHubTestStart = Date(timeIntervalSince1970: 1_773_482_400)

extension FlowerHubSimulator.Configuration {
    /// A simulator on a free port that ticks only when a test says so, from ``flowerHubTestStart``.
    static func test(quirks: Set<Quirk> = [], seed: UInt64 = 7, secureCookies: Bool = true) -> Self {
        FlowerHubSimulator.Configuration(
            seed: seed, tickInterval: nil, startDate: flowerHubTestStart, secureCookies: secureCookies, quirks: quirks)
    }
}

/// Starts a simulator and a client for it, runs `body`, and always stops both.
func withFlowerHub<T>(
    _ configuration: FlowerHubSimulator.Configuration = .test(),
    keepAlive: Bool = true,
    _ body: (FlowerHubSimulator, FlowerHubClient) async throws -> T
) async throws -> T {
    let simulator = FlowerHubSimulator(configuration: configuration)
    let port = try await simulator.start()
    let http = TestHTTPClient(port: port, keepAlive: keepAlive)
    let outcome: Result<T, any Error>
    do {
        outcome = .success(try await body(simulator, FlowerHubClient(http: http, account: configuration.account)))
    } catch {
        outcome = .failure(error)
    }
    await simulator.stop()
    try await http.shutdown()
    return try outcome.get()
}

/// One answer with every header field kept (`Set-Cookie` comes twice).
struct PortalAnswer: Sendable {
    var status: Int
    var fields: [(name: String, value: String)]
    var body: [UInt8]

    var json: JSON? { JSON.decode(body) }
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    func headers(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The cookies set, by name: the `name=value` part and the attributes (lower-cased names).
    var setCookies: [String: (value: String, attributes: [String: String])] {
        var cookies: [String: (value: String, attributes: [String: String])] = [:]
        for header in headers("Set-Cookie") {
            let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { continue }
            var attributes: [String: String] = [:]
            for attribute in parts.dropFirst() {
                let pieces = attribute.split(separator: "=", maxSplits: 1).map(String.init)
                attributes[pieces[0].lowercased()] = pieces.count > 1 ? pieces[1] : ""
            }
            cookies[String(pair[..<equals])] = (String(pair[pair.index(after: equals)...]), attributes)
        }
        return cookies
    }
}

/// A portal client with a minimal cookie jar (name → value) and the `Origin` header.
final class FlowerHubClient: Sendable {
    let http: TestHTTPClient
    let account: FlowerHubSimulator.Account
    private let jar = Mutex<[String: String]>([:])

    init(http: TestHTTPClient, account: FlowerHubSimulator.Account) {
        self.http = http
        self.account = account
    }

    var cookies: [String: String] { jar.withLock { $0 } }

    func setCookie(_ name: String, _ value: String?) {
        jar.withLock { $0[name] = value }
    }

    /// Sends a request with the jar's cookies and `Origin`, and stores the cookies of the answer.
    func send(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:], origin: Bool = true, cookies: Bool = true) async throws -> PortalAnswer {
        var request = HTTPClientRequest(url: http.baseURL + path)
        request.method = .RAW(value: method)
        if origin { request.headers.add(name: "Origin", value: FlowerHubSimulator.portalOrigin) }
        let jar = self.cookies
        if cookies, !jar.isEmpty {
            request.headers.add(name: "Cookie", value: jar.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if !http.keepAlive { request.headers.replaceOrAdd(name: "Connection", value: "close") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.client.execute(request, timeout: .seconds(60))
        let buffer = try await withDeadline("the body of \(method) \(path)") { try await response.body.collect(upTo: 1 << 22) }
        let answer = PortalAnswer(
            status: Int(response.status.code), fields: response.headers.map { ($0.name, $0.value) }, body: Array(buffer.readableBytesView))
        for (name, cookie) in answer.setCookies { setCookie(name, cookie.value) }
        return answer
    }

    func get(_ path: String, headers: [String: String] = [:], origin: Bool = true) async throws -> PortalAnswer {
        try await send("GET", path, headers: headers, origin: origin)
    }

    /// Logs in with the account's credentials (or the given password).
    @discardableResult
    func login(password: String? = nil) async throws -> PortalAnswer {
        let body = JSONValue.object(["username": .string(account.username), "password": .string(password ?? account.password)])
        return try await send("POST", "/auth/login", body: body.jsonString)
    }

    var owner: Int { account.assetOwnerId }
    var asset: Int { account.assetId }
}
