/// The simulators `api2mqtt demo` and `api2mqtt simulate` can run, by source type: one line per
/// source, next to its adapter's line in `SourceRegistry`.
public enum SimulatorCatalog {
    /// How `demo` and `simulate` start a simulator.
    public struct Options: Sendable {
        /// Time between readings (telegrams, telemetry frames); each simulator's own cadence by default.
        public var interval: Duration?
        /// Time after each (re)start before the device has data.
        public var warmup: Duration
        /// Port on 127.0.0.1; 0 picks a free one.
        public var port: Int

        public init(interval: Duration? = nil, warmup: Duration = .zero, port: Int = 0) {
            self.interval = interval
            self.warmup = warmup
            self.port = port
        }
    }

    /// One simulator: its source type, the environment variable `Config/demo.yaml` reads its URL
    /// from, and how to make it.
    public struct Entry: Sendable {
        public let type: String
        public let urlVariable: String
        public let make: @Sendable (Options) -> any ControllableSimulator
    }

    public static let entries: [Entry] = [
        Entry(type: "cozify_han", urlVariable: "HAN_URL") { options in
            CozifyHANSimulator(
                configuration: .init(
                    telegramInterval: options.interval ?? .seconds(10), meterDelay: options.warmup, port: options.port))
        },
        Entry(type: "fritz_network", urlVariable: "FRITZ_URL") { options in
            FritzNetworkSimulator(configuration: .init(port: options.port, tickInterval: options.interval ?? .seconds(5)))
        },
    ]

    /// The entry for a source type.
    public static func entry(_ type: String) -> Entry? { entries.first { $0.type == type } }
}
