import BridgeCore

extension FritzNetworkAdapter {
    /// The `fritz_network` entry of ``SourceRegistry``.
    public static let definition = SourceDefinition(type: .fritzNetwork, endpoints: Set(endpoints.keys)) { configuration, pool, logger in
        try FritzNetworkAdapter(configuration: configuration, pool: pool, logger: logger)
    }
}
