import BridgeCore
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// A hand-driven clock for `SourcePublisher`: time moves only when the test says so.
final class FakeClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    var now: ContinuousClock.Instant { instant.withLock { $0 } }

    func advance(_ duration: Duration) {
        instant.withLock { $0 = $0.advanced(by: duration) }
    }

    /// The closure `SourcePublisher` reads.
    var closure: @Sendable () -> ContinuousClock.Instant { { [self] in now } }
}

/// Shared fixtures of the core tests: a small mapping, a source, and a wired `SourcePublisher`.
enum CoreTestSupport {
    static let base = "api2mqtt"
    static let prefix = "homeassistant"

    /// A logger that keeps quiet.
    static let logger = Logger(label: "core-test") { _ in SwiftLogNoOpLogHandler() }

    /// A bridge on `broker` with one HAN source (nothing listens at its URL) and no periodic
    /// `bridge/info`; `settings` are top-level YAML sections added to its configuration.
    static func bridge(on broker: InMemoryBroker, settings: String = "") throws -> Bridge {
        let yaml = "mqtt:\n  url: mqtt://127.0.0.1:1883\n" + settings
            + "sources:\n  - id: han\n    type: cozify_han\n    url: http://127.0.0.1:1\n"
        let configuration = try ConfigLoader.load(yaml: yaml, file: "test.yaml", environment: [:])
        return Bridge(configuration: configuration, broker: broker, infoInterval: .seconds(3600), logger: logger)
    }

    /// A small mapping with the parts the core tests exercise: scaled and rounded values, a
    /// debounced entity, an energy counter, a writable number (entity + command of the same id),
    /// a select that is a command with `state:`, a button action, and a connector child list
    /// with a per-child command.
    static let mappingYAML = """
        source: cozify_han
        device:
          manufacturer: Acme
          model: Meter 3000
          sw_version: { from: { endpoint: info, path: fw } }
          model_id: { from: { endpoint: info, path: hw } }
        entities:
          - id: power
            from: { endpoint: meter, path: p }
            device_class: power
          - id: voltage
            from: { endpoint: meter, path: u_dv }
            scale: 0.1
            device_class: voltage
            precision: 1
          - id: fast_power
            from: { endpoint: meter, path: fp }
            device_class: power
            debounce: 5s
          - id: energy
            from: { endpoint: meter, path: e_wh }
            convert: Wh
            device_class: energy
          - id: fuse
            component: number
            from: { endpoint: config, path: fuse }
            min: 10
            max: 63
            step: 1
            unit: A
            device_class: current
          - id: connector_power
            child: { kind: connector, endpoint: points, list: connectors, id: id, name: label }
            from: { path: power }
            device_class: power
        commands:
          - id: fuse
            call: { method: POST, path: /configuration, body: { f: $value } }
          - id: mode
            component: select
            options: [Eco, Fast]
            state: { endpoint: config, path: mode }
            call: { method: POST, path: /mode, body: { m: $value } }
          - id: restart
            component: button
            action: restart_reader
          - id: unlock
            component: button
            child: { kind: connector, endpoint: points, list: connectors, id: id }
            call: { method: POST, path: "/connectors/$child/unlock" }
        """

    static func mapping(sourceLocation: SourceLocation = #_sourceLocation) throws -> MappingFile {
        do {
            return try MappingLoader.load(yaml: mappingYAML, file: "core-test.yaml")
        } catch {
            Issue.record("the core test mapping does not load:\n\(error)", sourceLocation: sourceLocation)
            throw error
        }
    }

    static func source(
        id: String = "han", readOnly: Bool = false, acceptRetainedCommands: Bool = false
    ) -> SourceConfiguration {
        SourceConfiguration(
            id: id, type: .cozifyHAN, name: "HAN reader", url: URL(string: "http://192.168.1.50"), readOnly: readOnly,
            acceptRetainedCommands: acceptRetainedCommands)
    }

    /// Parses a published payload as JSON (nil when it is not JSON).
    static func parse(_ message: OutboundMessage) -> JSONValue? {
        try? JSONValue.parse(message.payload)
    }

    static func json(_ text: String) -> JSONValue {
        (try? JSONValue(parsing: text)) ?? .null
    }

    /// Yields until `condition` holds, at most `attempts` times; returns whether it held.
    /// Commands run in their own tasks; this lets them progress without sleeping.
    static func eventually(attempts: Int = 20_000, _ condition: () async -> Bool) async -> Bool {
        for _ in 0..<attempts {
            if await condition() { return true }
            await Task.yield()
        }
        return await condition()
    }

    /// Waits until `condition` holds or `limit` of real time has passed (for the few tests about
    /// real timeouts); returns whether it held. It sleeps a millisecond between checks: a busy
    /// loop would hold one of the cooperative pool's threads (two on a 2-core machine), and
    /// several such tests at once starve the very work they wait for. `limit` is a hang guard,
    /// not a verdict: give it a minute.
    static func spin(upTo limit: Duration, until condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return await condition()
    }
}

/// A `SourcePublisher` wired to an in-memory broker, a fake clock and its own publishers.
struct BridgeHarness {
    let broker: InMemoryBroker
    let clock = FakeClock()
    let context: DiscoveryContext
    let settings: PublishSettings
    let discovery: DiscoveryPublisher
    let availability: AvailabilityPublisher
    let bridge: SourcePublisher

    init(
        source: SourceConfiguration = CoreTestSupport.source(), settings: PublishSettings = PublishSettings(),
        mapping: MappingFile? = nil, broker: InMemoryBroker = InMemoryBroker(), logger: Logger = CoreTestSupport.logger
    ) throws {
        self.broker = broker
        context = DiscoveryContext(
            baseTopic: CoreTestSupport.base, discoveryPrefix: CoreTestSupport.prefix, output: settings.output)
        self.settings = settings
        discovery = DiscoveryPublisher(context: context, broker: broker, logger: CoreTestSupport.logger)
        availability = AvailabilityPublisher(context: context, broker: broker, logger: CoreTestSupport.logger)
        bridge = SourcePublisher(
            configuration: source, mapping: try mapping ?? CoreTestSupport.mapping(), context: context, settings: settings,
            broker: broker, discovery: discovery, availability: availability, logger: logger, now: clock.closure)
    }

    /// Every message published on `topic`, in order.
    func messages(_ topic: String) -> [OutboundMessage] { broker.published(on: topic) }

    /// The JSON payloads published on `topic`, in order.
    func states(_ topic: String) -> [JSONValue] { messages(topic).compactMap(CoreTestSupport.parse) }

    /// The payloads published on `topic` as text, in order.
    func texts(_ topic: String) -> [String] { messages(topic).map { String(decoding: $0.payload, as: UTF8.self) } }

    /// The retained discovery payload of one entity, parsed.
    func retainedConfig(_ component: String, device: String, entity: String) -> JSONValue? {
        broker.retained["\(CoreTestSupport.prefix)/\(component)/\(device)/\(entity)/config"].flatMap(CoreTestSupport.parse)
    }

    /// Feeds a document given as JSON text.
    func ingest(_ endpoint: String, _ json: String, sourceSaysReset: Bool = false) async {
        await bridge.ingest(endpoint: endpoint, document: CoreTestSupport.json(json), sourceSaysReset: sourceSaysReset)
    }
}
