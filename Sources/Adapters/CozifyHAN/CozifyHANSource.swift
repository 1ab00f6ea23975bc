import BridgeCore

extension CozifyHANAdapter {
    /// The `cozify_han` entry of ``SourceRegistry``.
    public static let definition = SourceDefinition(type: .cozifyHAN, endpoints: Set(paths.keys)) { configuration, pool, logger in
        try CozifyHANAdapter(configuration: configuration, pool: pool, logger: logger)
    }
}
