import BridgeCore
import Logging
import SourceKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The Cozify HAN reader (`cozify_han`, contract: shared/apis/cozify-han-reader.openapi.yaml).
///
/// Endpoint names (as `Mappings/cozify_han.yaml` reads them): `meter` (`/meter`, and every
/// `HAN_METER_MESSAGE` from `/sse` or `/ws`, the same flat object), `meter_id`, `han`, `health`,
/// `configuration`, `scan` (`/scan-networks`). The meter comes from the stream (`stream: sse`,
/// default, or `websocket`); while the stream is down `/meter` is polled instead. A 503 on
/// `/meter` means "reader online, no telegram yet" (FIELD-NOTES), not an error.
public final class CozifyHANAdapter: SourceAdapter {
    /// How the meter is read (`stream:`).
    public enum StreamMode: String, Sendable { case sse, websocket, poll }

    static let paths: [String: String] = [
        "meter": "/meter", "meter_id": "/meter/id", "han": "/han", "health": "/health",
        "configuration": "/configuration", "scan": "/scan-networks",
    ]

    let client: SourceHTTPClient
    let mode: StreamMode
    let pollInterval: Duration
    let logger: Logger
    public let polls: [PollSchedule]
    public let streamFallback: [PollSchedule]

    /// - Parameter clock: the time of the rate budget (how long a 429 blocks requests); tests on a
    ///   simulated clock inject theirs. Requests, retries and the stream keep real time.
    public init(
        configuration: SourceConfiguration, pool: HTTPClientPool, logger: Logger, clock: any SourceClock = SystemSourceClock()
    ) throws {
        guard let url = configuration.url else {
            throw CommandFailure(.internalError, "source '\(configuration.id)' has no url")
        }
        let base: SourceURL
        do {
            base = try SourceURL(url.absoluteString)
        } catch {
            throw CommandFailure(.internalError, "source '\(configuration.id)': \(error)")
        }
        mode = StreamMode(rawValue: configuration.string("stream") ?? "sse") ?? .sse
        pollInterval = configuration.duration("poll_interval") ?? .seconds(10)
        let auth: any AuthStrategy = configuration.secret("token").map { BearerTokenAuth(token: Credential($0.revealed)) } ?? NoAuth()
        client = SourceHTTPClient(
            configuration: SourceHTTPClient.Configuration(
                baseURL: base, timeout: configuration.timeout,
                tls: SourceTLS(caFile: configuration.caFile, insecure: configuration.insecureTLS)),
            auth: auth, budget: RateBudget(clock: clock), pool: pool, logger: logger)
        self.logger = logger
        let meter = PollSchedule(endpoint: "meter", every: pollInterval)
        var polls = [
            PollSchedule(endpoint: "meter_id", every: .seconds(3600)), PollSchedule(endpoint: "han", every: .seconds(60)),
            PollSchedule(endpoint: "health", every: .seconds(60)),
            PollSchedule(endpoint: "configuration", every: .seconds(3600)),
        ]
        if mode == .poll { polls.append(meter) }
        self.polls = polls
        streamFallback = mode == .poll ? [] : [meter]
    }

    public var hasStream: Bool { mode != .poll }

    public func read(endpoint: String) async throws -> JSONValue? {
        guard let path = Self.paths[endpoint] else { throw SourceError.notSupported("endpoint '\(endpoint)'") }
        let response: SourceResponse
        do {
            response = try await client.get(path)
        } catch {
            // 503 on /meter and /meter/id: no telegram yet. The reader is up; the supervisor asks
            // again soon (the meter's identity would otherwise wait for the hourly read).
            if case .unavailable(let status, _) = error, status == 503, endpoint == "meter" || endpoint == "meter_id" {
                throw SourceFailure.noDataYet("\(Self.paths[endpoint] ?? endpoint) answered 503 (no telegram yet)")
            }
            throw error
        }
        if response.unchanged { return nil }
        return try Self.parse(response.body, endpoint: endpoint)
    }

    public func stream() -> AsyncThrowingStream<SourceDocument, any Error>? {
        guard mode != .poll else { return nil }
        // A connection that fails ends the stream (the supervisor then polls /meter); one that
        // stays up without telegrams is ended by the supervisor after `streamSilence`.
        let sse = mode == .sse ? client.events("/sse", options: StreamOptions(idleTimeout: pollInterval * 6, maxConsecutiveFailures: 1)) : nil
        let webSocket = mode == .websocket
            ? client.webSocket("/ws", options: WebSocketOptions(idleTimeout: pollInterval * 6, maxConsecutiveFailures: 1)) : nil
        let logger = self.logger
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    if let sse {
                        for try await event in sse {
                            if let document = Self.document(fromMessage: event.data, logger: logger) { continuation.yield(document) }
                        }
                    } else if let webSocket {
                        for try await text in webSocket {
                            if let document = Self.document(fromMessage: text, logger: logger) { continuation.yield(document) }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Three telegram intervals (`poll_interval` is the reader's telegram cadence, 10 s by
    /// default): a stream that connects but carries no telegram (a reader that drops each
    /// stream after its snapshot, or sends only keep-alives) counts as down after that.
    public var streamSilence: Duration? { mode == .poll ? nil : pollInterval * 3 }

    /// A stream message: `HAN_METER_MESSAGE` → `meter`, `HAN_STATE_MESSAGE` → `han` (the same object as GET /han),
    /// `HAN_CONFIGURATION_MESSAGE` (newer firmware) → `configuration`; other types are skipped.
    static func document(fromMessage text: String, logger: Logger) -> SourceDocument? {
        guard let message = try? JSONValue.parse(Array(text.utf8)) else {
            logger.debug("Skipped a stream message that is not JSON")
            return nil
        }
        switch message["type"]?.stringValue {
        case "HAN_METER_MESSAGE": return SourceDocument(endpoint: "meter", document: message)
        case "HAN_STATE_MESSAGE":
            // Sent once per connect: it says nothing about whether telegrams flow.
            return SourceDocument(endpoint: "han", document: message, confirmsStream: false)
        case "HAN_CONFIGURATION_MESSAGE":
            // Newer firmware pushes its configuration after the snapshot: the same object as
            // GET /configuration (passwords masked), so the controls are current after a reconnect.
            return SourceDocument(endpoint: "configuration", document: message, confirmsStream: false)
        default: return nil
        }
    }

    static func parse(_ body: [UInt8], endpoint: String) throws(SourceError) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            throw SourceError.malformedResponse("\(endpoint): \(error)")
        }
    }

    public func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int? {
        let method = SourceRequest.Method(rawValue: call.method.uppercased()) ?? .post
        let body = call.body.map { SourceRequestBody.json(bytes: $0.jsonBytes) }
        do {
            let response = try await client.send(
                method, call.path, query: call.query.map { (name: $0.name, value: $0.value) }, body: body)
            return response.status
        } catch {
            throw Self.failure(error)
        }
    }

    public func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int? {
        guard action == "scan_networks" else {
            throw CommandFailure(.notSupported, "action '\(action)' is not implemented for cozify_han")
        }
        // GET with X-Scan-Start starts a scan; the result is read afterwards as the `scan` endpoint
        // (the router refreshes it after this command).
        do {
            let response = try await client.get("/scan-networks", headers: [(name: "X-Scan-Start", value: "1")], priority: .command)
            return response.status
        } catch {
            throw Self.failure(error)
        }
    }

    public func statistics() async -> AdapterStatistics {
        let statistics = client.statistics
        return AdapterStatistics(
            requests: statistics.requests, lastLatency: statistics.lastLatency, rateBudgetLeft: await client.budget.remaining())
    }

    static func failure(_ error: SourceError) -> CommandFailure {
        switch error {
        case .timeout: CommandFailure(.timeout, error.description, httpStatus: error.status)
        default: CommandFailure(.callFailed, error.description, httpStatus: error.status)
        }
    }
}
