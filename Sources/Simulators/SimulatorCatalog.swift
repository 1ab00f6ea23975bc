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
        Entry(type: "ocpp_csms", urlVariable: "CSMS_URL") { options in
            let simulator = OCPPCSMSSimulator(configuration: .init(port: options.port, tickInterval: options.interval ?? .seconds(5)))
            // A car already charging on the DC charger (the demo account's tag), so session values
            // show from the start; the default site always has that connector free.
            _ = try? simulator.plugIn(chargePointID: "CP002", connectorID: 1, idTag: "TAG001")
            return simulator
        },
        // The demo account's credentials are FlowerHubSimulator.Account's (Config/demo.yaml uses them).
        Entry(type: "flowerhub", urlVariable: "FLOWERHUB_URL") { options in
            FlowerHubSimulator(configuration: .init(port: options.port, tickInterval: options.interval ?? .seconds(60)))
        },
        Entry(type: "tinybms", urlVariable: "TINYBMS_URL") { options in
            TinyBMSSimulator(
                configuration: .init(
                    tickInterval: options.interval ?? .seconds(1), autoTickDelay: options.warmup, port: options.port))
        },
        Entry(type: "fritz_network", urlVariable: "FRITZ_URL") { options in
            FritzNetworkSimulator(configuration: .init(port: options.port, tickInterval: options.interval ?? .seconds(5)))
        },
    ]

    /// The entry for a source type.
    public static func entry(_ type: String) -> Entry? { entries.first { $0.type == type } }
}
