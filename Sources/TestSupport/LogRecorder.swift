import Logging
import Synchronization

/// A `LogHandler` that keeps every line (level, message and metadata) for assertions, e.g. that a
/// secret never appears in any log line. Copies share the recorded lines but keep their own
/// metadata, as every logger's handler must.
public struct LogRecorder: LogHandler, Sendable {
    final class Storage: Sendable {
        let lines = Mutex<[String]>([])
    }

    private let storage = Storage()
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]

    public init() {}

    /// Every line logged so far through this recorder or its copies.
    public var lines: [String] { storage.lines.withLock { $0 } }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        storage.lines.withLock { $0.append("\(event.level) \(event.message) \(rendered)") }
    }
}
