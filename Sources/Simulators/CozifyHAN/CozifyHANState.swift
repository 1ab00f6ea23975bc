/// What a ``CozifyHANSimulator`` holds right now, for tests to compare with what a bridge published.
public struct CozifyHANState: Sendable {
    /// The configuration as set through `POST /configuration` and `POST /set-up`, password in clear.
    public var configuration: CozifyHANDeviceConfiguration
    /// The telegrams sent, oldest first, exactly as they went out (quirks applied); the last 1000 only.
    public var telegrams: [CozifyHANTelegram]
    /// How many telegrams were sent since the simulator was created.
    public var telegramCount: Int
    /// Whether a telegram arrived since the last (re)start, i.e. whether `/meter` answers 200.
    public var hasMeterData: Bool
    /// Open SSE and WebSocket streams.
    public var openStreams: Int

    /// The last telegram sent, as it went out.
    public var lastTelegram: CozifyHANTelegram? { telegrams.last }
}

/// The mutable state behind ``CozifyHANState``, guarded by the simulator's mutex.
struct CozifyHANStore: Sendable {
    static let historyLimit = 1_000

    var configuration: CozifyHANDeviceConfiguration
    var generator: CozifyHANDataGenerator
    var scanner: CozifyHANScanner
    var telegrams: [CozifyHANTelegram] = []
    var telegramCount = 0
    var hasMeterData = false
    var bootedAt = ContinuousClock.now
    var boots = 0

    mutating func append(_ telegram: CozifyHANTelegram) {
        telegrams.append(telegram)
        if telegrams.count > Self.historyLimit { telegrams.removeFirst(telegrams.count - Self.historyLimit) }
        telegramCount += 1
        hasMeterData = true
    }

    /// A (re)start: the reader has no meter data until the next telegram.
    mutating func boot() {
        bootedAt = .now
        boots += 1
        hasMeterData = false
    }

    var uptimeMilliseconds: Int64 {
        let elapsed = ContinuousClock.now - bootedAt
        return elapsed.components.seconds * 1_000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}
