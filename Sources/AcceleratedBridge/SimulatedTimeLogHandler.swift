import Logging

/// Prints each log line with the simulated time it happened at (`[t=95s] warning …`), to read an
/// accelerated run's course (``AllSourcesRun/Settings/traceLevel``).
public struct SimulatedTimeLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let clock: SimulatedClock

    public init(clock: SimulatedClock, level: Logger.Level) {
        self.clock = clock
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let seconds = Double(clock.elapsed.components.seconds) + Double(clock.elapsed.components.attoseconds) / 1e18
        print("[t=\(Int(seconds))s] \(event.level) \(event.message) \(fields.joined(separator: " "))")
    }
}
