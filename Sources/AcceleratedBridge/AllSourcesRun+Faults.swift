import Simulators

extension AllSourcesRun {
    /// Every fault mode of the simulators, as the fault suite applies it to one source.
    public enum FaultMode: String, CaseIterable, Sendable, CustomStringConvertible {
        /// Every request answers 500 (the HTTP client retries it, then the read fails).
        case http500 = "500"
        /// No request is answered until the fault clears: the HTTP client's own timeout ends each.
        case timeout
        /// Every JSON document (bodies, SSE `data:`, WebSocket frames) arrives truncated.
        case malformedJSON = "malformed JSON"
        /// Every request answers 401 whatever the credentials.
        case unauthorized = "401"
        /// Every request answers 429 (no `Retry-After`).
        case rateLimited = "429"
        /// The device goes away (its port refuses connections) and later comes back on the same port.
        case down
        /// Every request is answered after ``slowDelay`` (real time), well within the request timeout.
        case slow
        /// Every request is answered after ``slowBeyondTimeoutDelay`` (real time), past the request timeout.
        case slowBeyondTimeout = "slow beyond timeout"
        /// The open streams close, again every interval of the source while the fault lasts
        /// (``AllSourcesRun/dropStreams(_:)``); each reconnect succeeds.
        case droppedStream = "dropped stream"

        public var description: String { rawValue }

        /// How late a ``slow`` device answers.
        public static let slowDelay: Duration = .milliseconds(500)
        /// How late a ``FaultMode/slowBeyondTimeout`` device answers.
        public static let slowBeyondTimeoutDelay: Duration = .seconds(60)

        /// The simulator fault behind the mode (nil for ``down`` and ``droppedStream``).
        public var fault: Fault? {
            switch self {
            case .http500: .httpError(500)
            case .timeout: .timeout
            case .malformedJSON: .malformedJSON
            case .unauthorized: .unauthorized
            case .rateLimited: .httpError(429)
            case .down: nil
            case .slow: .slow(Self.slowDelay)
            case .slowBeyondTimeout: .slow(Self.slowBeyondTimeoutDelay)
            case .droppedStream: .dropStreams
            }
        }

        /// Whether the mode needs real time to pass (a request that waits for the HTTP client's
        /// timeout or a slow answer): simulated time stands still while it does.
        public var usesRealTime: Bool { self == .timeout || self == .slow || self == .slowBeyondTimeout }
    }

    /// Starts `mode` on `source`'s simulator. A fault that changes how requests are answered also
    /// closes the streams open now, so the stream's reconnect meets the fault too (a device that
    /// starts failing does not keep serving an old connection).
    public func apply(_ mode: FaultMode, to source: Source) async {
        let simulator = simulator(source)
        switch mode {
        case .down:
            await simulator.stopAbruptly()
        case .droppedStream:
            dropStreams(source)
        default:
            guard let fault = mode.fault else { return }
            simulator.faults.activate(fault)
            simulator.faults.dropStreams()
        }
    }

    /// Closes the source's open streams now (a one-off: the next connection stays open).
    public func dropStreams(_ source: Source) {
        simulator(source).faults.dropStreams()
    }

    /// Ends `mode` on `source`'s simulator (``FaultMode/down``: starts it again on the same port).
    public func clear(_ mode: FaultMode, from source: Source) async throws {
        let simulator = simulator(source)
        if mode == .down { try await simulator.start() }
        if let fault = mode.fault { simulator.faults.deactivate(fault) }
    }
}
