import BridgeCore
import Foundation
import Hummingbird
import ServiceLifecycle
import Synchronization

/// One request as the Fritz!Box simulator saw it, with simulated and real arrival times, so tests
/// can check a client's request rate in any rolling minute.
public struct FritzNetworkRequestRecord: Hashable, Sendable {
    /// `GET`, `POST`, `DELETE`.
    public var method: String
    /// The path without the query.
    public var path: String
    /// The raw query, empty when none.
    public var query: String
    /// The rate-limit identity: `key:<8 chars>`, `jwt:<8 chars>` or `ip:127.0.0.1` (never a whole credential).
    public var identity: String
    /// Simulated arrival time.
    public var at: Date
    /// Real arrival time.
    public var received: ContinuousClock.Instant
    /// The answer's status; `nil` while the request is in flight.
    public var status: Int?
}

/// The simulated server behind a ``FritzNetworkSimulator``: its store, time, records and HTTP application.
final class FritzNetworkDevice: Sendable {
    let configuration: FritzNetworkSimulator.Configuration
    let faults: FaultPlan
    let requests: RequestLog
    let store: Mutex<FritzNetworkStore>
    let records = Mutex<[FritzNetworkRequestRecord]>([])
    /// Real-time mode: the real instant simulated time started at, and the simulated time added by hand.
    let origin = ContinuousClock.now
    let manualOffset = Mutex<Double>(0)
    let startDate: Date

    init(configuration: FritzNetworkSimulator.Configuration) {
        var configuration = configuration
        let startDate = configuration.startDate ?? Date()
        configuration.startDate = startDate
        self.startDate = startDate
        self.configuration = configuration
        self.faults = FaultPlan(quirks: configuration.quirks)
        self.requests = RequestLog()
        self.store = Mutex(FritzNetworkStore(configuration: configuration))
    }

    // MARK: Time

    /// Brings simulated time up to the real clock (real-time mode; manual mode does nothing).
    func synchronise() {
        guard case .realTime(let scale) = configuration.timeMode else { return }
        let elapsed = (ContinuousClock.now - origin).seconds * scale
        let target = startDate.addingTimeInterval(elapsed + manualOffset.withLock { $0 })
        let faults = faults
        store.withLock { $0.advance(to: target, faults: faults) }
    }

    func advance(by duration: Duration) {
        synchronise()
        manualOffset.withLock { $0 += duration.seconds }
        let faults = faults
        store.withLock { $0.advance(to: $0.now.addingTimeInterval(duration.seconds), faults: faults) }
    }

    // MARK: Application

    func makeApplication(_ binding: SimulatorServer.Binding) -> any Service {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: FritzRecordingMiddleware(device: self))
        router.add(middleware: FaultMiddleware(faults: faults, requests: requests, bearerToken: nil))
        addRoutes(to: router)
        var services: [any Service] = []
        if case .realTime(let scale) = configuration.timeMode, scale > 0 {
            let interval = Duration.seconds(max(0.01, configuration.tickInterval.seconds / scale))
            services.append(TelegramTicker(delay: interval, interval: interval) { [weak self] in self?.synchronise() })
        }
        return Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [binding.connections.handler()])),
            configuration: binding.configuration,
            services: services,
            onServerRunning: binding.onServerRunning,
            logger: binding.logger
        )
    }

    // MARK: Records

    func record(_ request: Request) -> Int {
        synchronise()
        let at = store.withLock { $0.now }
        let record = FritzNetworkRequestRecord(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
            identity: Self.identity(of: request), at: at, received: .now, status: nil)
        return records.withLock { records in
            records.append(record)
            return records.count - 1
        }
    }

    func finish(_ index: Int, status: Int) {
        records.withLock { records in
            if records.indices.contains(index) { records[index].status = status }
        }
    }

    /// The rate-limit identity of a request: the first 8 characters of its API key or bearer token, else its address.
    static func identity(of request: Request) -> String {
        if let key = apiKey(of: request), !key.isEmpty { return "key:\(key.prefix(8))" }
        if let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
            return "jwt:\(authorization.dropFirst(7).prefix(8))"
        }
        return "ip:127.0.0.1"
    }

    /// The `X-API-Key` header's value.
    static func apiKey(of request: Request) -> String? {
        request.headers.first { $0.name.canonicalName == "x-api-key" }?.value
    }
}

/// Records every request (with its status) in the simulator's timed log and counts it against the
/// rate limit, both on arrival, before faults apply.
struct FritzRecordingMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let device: FritzNetworkDevice

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let index = device.record(request)
        let admission = device.admit(request)
        do {
            let response = try await FritzNetworkDevice.$arrival.withValue(admission) { try await next(request, context) }
            device.finish(index, status: Int(response.status.code))
            return response
        } catch let error as any HTTPResponseError {
            device.finish(index, status: Int(error.status.code))
            throw error
        }
    }
}
