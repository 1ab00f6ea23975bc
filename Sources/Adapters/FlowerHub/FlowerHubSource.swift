import BridgeCore

extension FlowerHubAdapter {
    /// The `flowerhub` entry of ``SourceRegistry``.
    public static let definition = SourceDefinition(type: .flowerhub, endpoints: endpoints) { configuration, pool, logger in
        try FlowerHubAdapter(configuration: configuration, pool: pool, logger: logger)
    }
}
