import Mosquitto
import ServiceLifecycle

/// Tells systemd (Type=notify) that the bridge is up — READY=1 once its services run, whether or
/// not the broker is reachable yet, so a broker outage at boot does not fail the unit — and keeps
/// STATUS= in step with the broker connection; STOPPING=1 when graceful shutdown begins.
struct ReadinessReporter: Service {
    let notifier: SystemdNotifier
    let client: MosquittoClient

    func run() async throws {
        _ = notifier.ready()
        _ = notifier.status("waiting for the MQTT broker")
        await withGracefulShutdownHandler {
            var connected: Bool?
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let now = client.isConnected
                if now != connected {
                    _ = notifier.status(now ? "connected to \(client.configuration.brokerDescription)" : "MQTT broker unreachable, retrying")
                    connected = now
                }
                try? await Task.sleep(for: .seconds(1))
            }
        } onGracefulShutdown: {
            _ = notifier.stopping()
        }
    }
}
