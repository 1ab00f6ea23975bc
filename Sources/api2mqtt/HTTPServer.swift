import BridgeCore
import Foundation
import Hummingbird
import Logging
import Mosquitto
import NIOCore

/// The operations endpoint: `/health` (200 only while the broker is connected) and `/metrics`
/// (Prometheus text). Binds the configured address, 127.0.0.1:9180 by default.
func buildHTTPServer(
    _ settings: HTTPSettings, client: MosquittoClient, metrics: MetricsExporter, logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    let startedAt = ContinuousClock.now
    router.get("/health") { _, _ -> Response in
        let connected = client.isConnected
        let body: JSONValue = [
            "status": .string(connected ? "ok" : "unavailable"),
            "mqtt": .string(connected ? "connected" : "disconnected"),
            "uptime_s": .number(Double((ContinuousClock.now - startedAt).components.seconds)),
            "version": .string(BuildInfo.version),
        ]
        return Response(
            status: connected ? .ok : .serviceUnavailable,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.jsonString + "\n")))
    }
    router.get("/metrics") { _, _ -> Response in
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
    }
    var serverLogger = logger
    serverLogger.logLevel = max(logger.logLevel, .notice)
    return Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(settings.listen.host, port: settings.listen.port), serverName: "api2mqtt"),
        logger: serverLogger)
}
