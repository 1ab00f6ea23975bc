import BridgeCore

/// Every source type this build has an adapter for, keyed by the `type:` used in configuration
/// and mapping files. Empty until the source issues add their adapters: until then
/// `ConfigurationGate` refuses enabled sources with "not implemented in this build".
enum AdapterRegistry {
    static let implemented: Set<SourceType> = []

    static func makeAdapter(_ configuration: SourceConfiguration) throws -> (any SourceAdapter)? {
        nil
    }
}
