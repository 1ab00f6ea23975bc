import BridgeCore
import Logging
import Synchronization
import Testing

@testable import api2mqtt

/// The log handlers write one line per event, whatever the logged values hold (issue #12: a
/// newline in a command payload forged a second log line, terminal escapes reached the log).
@Suite("Log output")
struct LoggingBootstrapTests {
    /// Collects what a handler writes.
    final class Lines: Sendable {
        private let written = Mutex<[String]>([])
        var all: [String] { written.withLock { $0 } }
        var write: LogSink.Write { { line in self.written.withLock { $0.append(line) } } }
    }

    static let forged = "x\n2026-12-07T05:00:00Z critical api2mqtt: [BridgeCore] forged\r\u{1B}[2J\u{0}\u{7F}\u{9B}31m\u{2028}y"

    @Test("a logged value with newlines, escapes or control characters stays on its one line", arguments: LogSettings.Format.allCases)
    func oneEventOneLine(format: LogSettings.Format) throws {
        let lines = Lines()
        let logger = Logger(label: "api2mqtt") { label in
            LoggingBootstrap.makeHandler(LogSettings(level: .trace, format: format), label: label, write: lines.write)
        }
        logger.info("Command failed: \(Self.forged)", metadata: ["payload": "\(Self.forged)", "list": ["a\nb", "c"]])
        logger.warning("Ignored", metadata: ["mqtt.topic": "\(String(repeating: "t", count: 100_000))"])
        let written = lines.all
        #expect(written.count == 2)
        for line in written {
            #expect(line.last == "\n")
            let body = line.dropLast()
            #expect(!body.contains("\n") && !body.contains("\r"), "one event, one line: \(line.debugDescription)")
            #expect(
                !body.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" },
                "no control characters: \(line.debugDescription)")
            #expect(body.count < 5_000, "bounded: \(body.count) characters")
        }
        #expect(written.first?.contains("forged") == true, "the value is still there, escaped")
    }
}
