import BridgeCore

extension TinyBMSAdapter {
    /// The `tinybms` entry of ``SourceRegistry``.
    public static let definition = SourceDefinition(
        type: .tinyBMS, endpoints: Set(paths.keys).union(["alert_event", "event"])
    ) { configuration, pool, logger in
        try TinyBMSAdapter(configuration: configuration, pool: pool, logger: logger)
    }
}
