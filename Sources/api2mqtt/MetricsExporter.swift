import Mosquitto
import Prometheus
import Synchronization

/// Renders `/metrics`: everything recorded through swift-metrics (bootstrapped onto the same
/// registry), plus the broker client's counters, copied in at scrape time so the libmosquitto
/// thread only ever touches atomics.
final class MetricsExporter: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let client: MosquittoClient
    private let published: Counter
    private let received: Counter
    private let reconnects: Counter
    private let offlineDropped: Counter
    private let qos0Discarded: Counter
    private let incomingDropped: Counter
    private let connected: Gauge
    private let offlineQueue: Gauge
    /// Values already exported, to turn the client's totals into counter increments.
    private let exported = Mutex<[Int]>(Array(repeating: 0, count: 6))

    init(registry: PrometheusCollectorRegistry, client: MosquittoClient) {
        self.registry = registry
        self.client = client
        published = registry.makeCounter(descriptor: Self.descriptor("messages_published", unit: "total", help: "Messages handed to the broker."))
        received = registry.makeCounter(descriptor: Self.descriptor("messages_received", unit: "total", help: "Messages received on subscriptions."))
        reconnects = registry.makeCounter(descriptor: Self.descriptor("reconnects", unit: "total", help: "Reconnects to the broker after the first connection."))
        offlineDropped = registry.makeCounter(
            descriptor: Self.descriptor(
                "offline_queue_dropped", unit: "total",
                help: "QoS 1/2 messages dropped from the full offline queue while the broker was unreachable."))
        qos0Discarded = registry.makeCounter(
            descriptor: Self.descriptor(
                "offline_qos0_discarded", unit: "total", help: "QoS 0 messages discarded while the broker was unreachable."))
        incomingDropped = registry.makeCounter(descriptor: Self.descriptor("incoming_dropped", unit: "total", help: "Received messages dropped because processing fell behind."))
        connected = registry.makeGauge(descriptor: Self.descriptor("connected", unit: "", help: "1 while the broker is connected."))
        offlineQueue = registry.makeGauge(descriptor: Self.descriptor("offline_queue_length", unit: "", help: "Messages waiting in the offline queue."))
    }

    /// `api2mqtt_mqtt_<name>[_<unit>]`.
    private static func descriptor(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "api2mqtt", subsystem: "mqtt", metricName: name, unitName: unit, helpText: help)
    }

    /// The Prometheus text exposition of every metric.
    func render() -> [UInt8] {
        let statistics = client.statistics
        let current = [
            statistics.published.load(ordering: .relaxed), statistics.received.load(ordering: .relaxed),
            statistics.reconnects.load(ordering: .relaxed), statistics.offlineDropped.load(ordering: .relaxed),
            statistics.offlineDiscardedQoS0.load(ordering: .relaxed), statistics.incomingDropped.load(ordering: .relaxed),
        ]
        let counters = [published, received, reconnects, offlineDropped, qos0Discarded, incomingDropped]
        exported.withLock { exported in
            for index in counters.indices where current[index] > exported[index] {
                counters[index].increment(by: Int64(current[index] - exported[index]))
                exported[index] = current[index]
            }
        }
        connected.set(to: client.isConnected ? 1.0 : 0.0)
        offlineQueue.set(to: Double(client.offlineQueueCount))
        return registry.emitToBuffer()
    }
}
