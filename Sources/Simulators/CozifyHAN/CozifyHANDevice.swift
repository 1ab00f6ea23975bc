import Foundation
import Hummingbird
import HummingbirdWebSocket
import ServiceLifecycle
import Synchronization

/// The simulated reader behind a ``CozifyHANSimulator``: its state, its telegrams and its HTTP
/// application. It knows nothing of the server's lifecycle, so the server can hold it without a cycle.
final class CozifyHANDevice: Sendable {
    let configuration: CozifyHANSimulator.Configuration
    let faults: FaultPlan
    let requests: RequestLog
    let hub: StreamHub
    let store: Mutex<CozifyHANStore>

    init(configuration: CozifyHANSimulator.Configuration) {
        self.configuration = configuration
        self.faults = FaultPlan(quirks: configuration.quirks)
        self.requests = RequestLog()
        self.hub = StreamHub(faults: faults)
        self.store = Mutex(
            CozifyHANStore(
                configuration: .factoryDefault(firmwareVersion: configuration.identity.version),
                generator: CozifyHANDataGenerator(seed: configuration.seed),
                scanner: CozifyHANScanner(duration: configuration.scanDuration)
            )
        )
    }

    var state: CozifyHANState {
        let openStreams = hub.subscriberCount
        return store.withLock { store in
            CozifyHANState(
                configuration: store.configuration,
                telegrams: store.telegrams,
                telegramCount: store.telegramCount,
                hasMeterData: store.hasMeterData,
                openStreams: openStreams
            )
        }
    }

    /// See ``CozifyHANSimulator/emit(_:)``.
    func emit(_ telegram: CozifyHANTelegram) {
        store.withLock { $0.append(telegram) }
        hub.broadcast(StreamMessage(event: CozifyHANTelegram.messageType, data: JSONResponse.string(telegram)))
    }

    /// See ``CozifyHANSimulator/emitTelegramNow()``.
    func emitTelegram() -> CozifyHANTelegram {
        let nowMilliseconds = Int64((Date().timeIntervalSince1970 * 1_000).rounded())
        let faults = faults
        let telegram = store.withLock { store in
            var telegram: CozifyHANTelegram
            if faults.consume(.repeatTelegram), let previous = store.telegrams.last {
                telegram = previous
            } else {
                telegram = store.generator.next(timestamp: nowMilliseconds)
                if faults.consume(.busLoss) { telegram = telegram.withBusLoss() }
                if faults.consume(.energyGlitch) { telegram = telegram.withEnergyGlitch() }
                if faults.isEnabled(.timestampsInSeconds) { telegram.ts = nowMilliseconds / 1_000 }
            }
            store.append(telegram)
            return telegram
        }
        hub.broadcast(StreamMessage(event: CozifyHANTelegram.messageType, data: JSONResponse.string(telegram)))
        if faults.isEnabled(.unknownMessageTypes) {
            let ota = CozifyHANOTAMessage(state: "IDLE", progress: 0)
            hub.broadcast(StreamMessage(event: ota.type, data: JSONResponse.string(ota)))
        }
        return telegram
    }

    /// Builds the application for one run of the server; each run is a reader boot.
    func makeApplication(_ binding: SimulatorServer.Binding) -> any Service {
        store.withLock { $0.boot() }
        hub.reopen()

        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: FaultMiddleware(faults: faults, requests: requests, bearerToken: configuration.token, recordsUpgradeRequests: false))
        addRoutes(to: router)

        let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
        webSocketRouter.add(middleware: FaultMiddleware(faults: faults, requests: requests, bearerToken: configuration.token))
        addWebSocketRoute(to: webSocketRouter)

        var services: [any Service] = []
        if let meterDelay = configuration.meterDelay {
            services.append(TelegramTicker(delay: meterDelay, interval: configuration.telegramInterval) { [weak self] in
                _ = self?.emitTelegram()
            })
        }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: webSocketRouter,
                // A client that ignores our close frame is cut off after a second, not fifteen.
                configuration: .init(
                    http1: .init(additionalChannelHandlers: [binding.connections.handler()]),
                    ws: .init(closeTimeout: .seconds(1)))
            ),
            configuration: binding.configuration,
            services: services,
            onServerRunning: binding.onServerRunning,
            logger: binding.logger
        )
    }
}
