import BridgeCore

extension OCPPCSMSAdapter {
    /// The `ocpp_csms` entry of ``SourceRegistry``.
    public static let definition = SourceDefinition(type: .ocppCSMS, endpoints: endpoints) { configuration, pool, logger in
        try OCPPCSMSAdapter(configuration: configuration, pool: pool, logger: logger)
    }
}
