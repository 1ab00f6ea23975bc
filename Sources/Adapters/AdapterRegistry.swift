import BridgeCore
import Logging
import SourceKit

/// Every source type this build has an adapter for, keyed by the `type:` used in configuration
/// and mapping files (style.md §2.3: an explicit table, no registration side effects).
public struct AdapterRegistry: Sendable {
    /// Source types with an adapter.
    public static let implemented: Set<SourceType> = [.cozifyHAN]

    let pool: HTTPClientPool
    let logger: Logger

    /// One HTTP client pool shared by all sources (one client per TLS configuration).
    public init(pool: HTTPClientPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// The adapter for a configured source, or nil when this build has none for its type.
    public func makeAdapter(_ configuration: SourceConfiguration) throws -> (any SourceAdapter)? {
        switch configuration.type {
        case .cozifyHAN: try CozifyHANAdapter(configuration: configuration, pool: pool, logger: logger)
        default: nil
        }
    }
}
