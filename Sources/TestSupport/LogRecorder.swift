import Logging
import Synchronization

/// A `LogHandler` that keeps every line (message plus metadata) for assertions, e.g. that a
/// secret never appears in any log line.
public final class LogRecorder: LogHandler, Sendable {
    private let storage = Mutex<[String]>([])
    private let metadataStorage = Mutex<Logger.Metadata>([:])
    private let level = Mutex<Logger.Level>(.trace)

    public init() {}

    /// Every line logged so far: level, message and metadata.
    public var lines: [String] { storage.withLock { $0 } }

    public var logLevel: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }

    public var metadata: Logger.Metadata {
        get { metadataStorage.withLock { $0 } }
        set { metadataStorage.withLock { $0 = newValue } }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadataStorage.withLock { $0[key] } }
        set { metadataStorage.withLock { $0[key] = newValue } }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        storage.withLock { $0.append("\(event.level) \(event.message) \(rendered)") }
    }
}
