import BridgeCore
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Sets up process-wide logging from the `log:` section: one line per event on standard error,
/// as text (swift-log's stream format) or as JSON objects.
///
/// One event is one line whatever it carries: the message and every metadata value are escaped
/// (control characters, line separators and bidirectional overrides become `\n`, `\u{1B}`, …)
/// and bounded (``messageLimit``, ``valueLimit``) by ``LogText``, so a command payload, topic,
/// device name or error body cannot forge a log line or reach a terminal as an escape sequence.
enum LoggingBootstrap {
    static func bootstrap(_ settings: LogSettings) {
        LoggingSystem.bootstrap { label in makeHandler(settings, label: label, write: LogSink.standardError) }
    }

    /// The most characters of a message written.
    static let messageLimit = 2_000
    /// The most characters of one metadata value written.
    static let valueLimit = 1_000

    /// The handler for one logger, writing each finished line through `write`.
    static func makeHandler(_ settings: LogSettings, label: String, write: @escaping LogSink.Write) -> any LogHandler {
        switch settings.format {
        case .text:
            var handler = TextLogHandler(label: label, write: write)
            handler.logLevel = settings.level
            return handler
        case .json:
            var handler = JSONLogHandler(label: label, write: write)
            handler.logLevel = settings.level
            return handler
        }
    }
}

/// Where log lines go.
enum LogSink {
    /// Writes one finished line (with its `\n`).
    typealias Write = @Sendable (String) -> Void

    /// Standard error, one `write` per line.
    static let standardError: Write = { line in StandardError.write(line) }
}

/// Writes each log event as one line of text on standard error, in swift-log's stream format:
/// `2026-12-07T05:00:00Z info api2mqtt: source.id=han [BridgeCore] Source online`.
struct TextLogHandler: LogHandler {
    let label: String
    let write: LogSink.Write
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new })
        let rendered = merged.sorted { $0.key < $1.key }
            .map { LogText.escaped($0.key, limit: 100) + "=" + LogText.escaped($0.value.description, limit: LoggingBootstrap.valueLimit) }
            .joined(separator: " ")
        let message = LogText.escaped(event.message.description, limit: LoggingBootstrap.messageLimit)
        write(
            "\(Date().ISO8601Format()) \(event.level) \(LogText.escaped(label, limit: 100)):\(rendered.isEmpty ? "" : " " + rendered) "
                + "[\(LogText.escaped(event.source, limit: 100))] \(message)\n")
    }
}

/// Writes each log event as one JSON object per line on standard error:
/// `{"ts":"…","level":"info","label":"api2mqtt","msg":"…","source.id":"han",…}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var write: LogSink.Write = LogSink.standardError
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
            "label": .string(LogText.escaped(label, limit: 100)),
            "msg": .string(LogText.escaped(event.message.description, limit: LoggingBootstrap.messageLimit)),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[LogText.escaped(key, limit: 100)] = .string(LogText.escaped(value.description, limit: LoggingBootstrap.valueLimit))
        }
        write(JSONValue.object(fields).jsonString + "\n")
    }
}
