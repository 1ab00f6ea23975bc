import Mosquitto
import ServiceLifecycle

/// Tells systemd (Type=notify) that the bridge is up — READY=1 once its services run, whether or
/// not the broker is reachable yet, so a broker outage at boot does not fail the unit — and keeps
/// STATUS= in step with the broker connection; STOPPING=1 when graceful shutdown begins.
///
/// It is told each connection change (``connectionChanged(_:)``) instead of looking every second.
struct ReadinessReporter: Service {
    let notifier: SystemdNotifier
    let broker: String
    private let changes: AsyncStream<ConnectionChange>
    private let continuation: AsyncStream<ConnectionChange>.Continuation

    init(notifier: SystemdNotifier, broker: String) {
        self.notifier = notifier
        self.broker = broker
        (changes, continuation) = AsyncStream.makeStream(of: ConnectionChange.self, bufferingPolicy: .bufferingNewest(8))
    }

    /// The broker connection changed.
    func connectionChanged(_ change: ConnectionChange) {
        continuation.yield(change)
    }

    func run() async throws {
        _ = notifier.ready()
        _ = notifier.status("waiting for the MQTT broker")
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                for await change in changes {
                    switch change {
                    case .connected: _ = notifier.status("connected to \(broker)")
                    case .disconnected: _ = notifier.status("MQTT broker unreachable, retrying")
                    }
                }
            }
        } onGracefulShutdown: {
            _ = notifier.stopping()
        }
    }
}
