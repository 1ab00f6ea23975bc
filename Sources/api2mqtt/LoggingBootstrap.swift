import BridgeCore
import Foundation
import Logging

/// Sets up process-wide logging from the `log:` section: one line per event on standard error,
/// as text (swift-log's stream format) or as JSON objects.
enum LoggingBootstrap {
    static func bootstrap(_ settings: LogSettings) {
        let level = settings.level
        switch settings.format {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// Writes each log event as one JSON object per line on standard error:
/// `{"ts":"…","level":"info","label":"api2mqtt","msg":"…","source.id":"han",…}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: JSONValue] = [
            "ts": .string(Date().ISO8601Format(.iso8601.time(includingFractionalSeconds: true).year().month().day())),
            "level": .string(event.level.rawValue),
            "label": .string(label),
            "msg": .string(event.message.description),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[key] = .string(value.description)
        }
        FileHandle.standardError.write(Data((JSONValue.object(fields).jsonString + "\n").utf8))
    }
}
