import BridgeCore
import Logging
import SourceKit

/// What the bridge knows about one source type: the endpoints its adapter serves and how to
/// make the adapter. Each source folder defines its own (`CozifyHAN/CozifyHANSource.swift`);
/// its configuration keys are ``SourceType/schema``, its simulator is in `Simulators/<Name>/`
/// (``SimulatorCatalog``), its mapping `Mappings/<type>.yaml`.
public struct SourceDefinition: Sendable {
    public typealias AdapterFactory = @Sendable (SourceConfiguration, HTTPClientPool, Logger) throws -> any SourceAdapter

    public let type: SourceType
    /// Every endpoint name the adapter delivers documents under; a mapping may read only these.
    public let endpoints: Set<String>
    public let makeAdapter: AdapterFactory

    public init(type: SourceType, endpoints: Set<String>, makeAdapter: @escaping AdapterFactory) {
        self.type = type
        self.endpoints = endpoints
        self.makeAdapter = makeAdapter
    }

    /// The endpoints `mapping` reads that this adapter does not serve, sorted.
    public func missingEndpoints(in mapping: MappingFile) -> [String] {
        mapping.endpoints.subtracting(endpoints).sorted()
    }
}

/// The one table of source types this build implements (style.md §2.3: an explicit table, no
/// registration side effects). Adding a source adds its folder and one line here.
public enum SourceRegistry {
    public static let definitions: [SourceType: SourceDefinition] = Dictionary(
        uniqueKeysWithValues: [
            CozifyHANAdapter.definition,
            OCPPCSMSAdapter.definition,
            FlowerHubAdapter.definition,
            TinyBMSAdapter.definition,
            FritzNetworkAdapter.definition,
        ].map { ($0.type, $0) })

    /// Every enabled source whose mapping reads an endpoint its adapter does not serve, as
    /// configuration errors (a mapping overlay with a typo in an endpoint name would otherwise
    /// publish nothing for that entity, silently).
    public static func endpointErrors(configuration: BridgeConfiguration, mappings: [String: MappingFile]) -> [String] {
        var errors: [String] = []
        for source in configuration.sources where source.enabled {
            guard let definition = definitions[source.type], let mapping = mappings[source.type.rawValue] else { continue }
            let missing = definition.missingEndpoints(in: mapping)
            if !missing.isEmpty {
                errors.append(
                    "\(mapping.file): the mapping for \(source.type.rawValue) reads endpoint(s) \(missing.joined(separator: ", ")) "
                        + "that its adapter does not serve (it serves \(definition.endpoints.sorted().joined(separator: ", ")))")
            }
        }
        return errors
    }
}

/// Makes the adapters of configured sources, sharing one HTTP client pool.
public struct AdapterFactory: Sendable {
    let pool: HTTPClientPool
    let logger: Logger

    public init(pool: HTTPClientPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// The adapter for a configured source, or nil when this build has none for its type.
    public func makeAdapter(_ configuration: SourceConfiguration) throws -> (any SourceAdapter)? {
        try SourceRegistry.definitions[configuration.type]?.makeAdapter(configuration, pool, logger)
    }
}
