import BridgeCore
import Logging
import Mosquitto
import NIOHTTP1

/// The operations endpoint: `/health` (200 only while the broker is connected) and `/metrics`
/// (Prometheus text). Binds the configured address, 127.0.0.1:9180 by default.
func buildHTTPServer(
    _ settings: HTTPSettings, client: MosquittoClient, metrics: MetricsExporter, logger: Logger
) -> OperationsHTTPServer {
    let startedAt = ContinuousClock.now
    var serverLogger = logger
    serverLogger.logLevel = max(logger.logLevel, .notice)
    return OperationsHTTPServer(
        host: settings.listen.host, port: settings.listen.port,
        routes: { path in
            switch path {
            case "/health":
                let connected = client.isConnected
                let body: JSONValue = [
                    "status": .string(connected ? "ok" : "unavailable"),
                    "mqtt": .string(connected ? "connected" : "disconnected"),
                    "uptime_s": .number(Double((ContinuousClock.now - startedAt).components.seconds)),
                    "version": .string(BuildInfo.version),
                ]
                return OperationsResponse(
                    status: connected ? .ok : .serviceUnavailable, contentType: "application/json",
                    body: Array((body.jsonString + "\n").utf8))
            case "/metrics":
                return OperationsResponse(
                    status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render())
            default:
                return nil
            }
        },
        logger: serverLogger)
}
