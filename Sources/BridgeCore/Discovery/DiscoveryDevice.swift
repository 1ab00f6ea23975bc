/// A Home Assistant device as discovery describes it: the source's main device, a child device
/// (charge point, connector, cell, network client) or the bridge itself.
public struct DiscoveryDevice: Sendable, Hashable {
    /// Topic-safe device id: `<source id>` or `<source id>_<child>` (design.md topic contract).
    public var id: String
    public var name: String
    public var manufacturer: String?
    public var model: String?
    /// The model's identifier (`model_id`), where the model name is not it.
    public var modelID: String?
    public var swVersion: String?
    public var hwVersion: String?
    public var serialNumber: String?
    public var configurationURL: String?
    /// The parent device's id for child devices (`via_device`).
    public var viaDevice: String?
    /// The node level of its discovery topics (`<prefix>/<component>/<node>/<entity>/config`)
    /// when it is not ``id`` (the bridge's own device under a base topic other than the default).
    public var discoveryNode: String?

    public init(
        id: String, name: String, manufacturer: String? = nil, model: String? = nil, modelID: String? = nil,
        swVersion: String? = nil, hwVersion: String? = nil, serialNumber: String? = nil, configurationURL: String? = nil,
        viaDevice: String? = nil
    ) {
        self.id = id
        self.name = name
        self.manufacturer = manufacturer
        self.model = model
        self.modelID = modelID
        self.swVersion = swVersion
        self.hwVersion = hwVersion
        self.serialNumber = serialNumber
        self.configurationURL = configurationURL
        self.viaDevice = viaDevice
    }

    /// The identifier Home Assistant groups entities by: `<base topic>_<device id>`. The base topic
    /// makes it unique per bridge instance (several instances on one broker use distinct bases).
    public func identifier(baseTopic: String) -> String { "\(baseTopic)_\(id)" }

    /// The discovery `device` block.
    func block(baseTopic: String) -> JSONValue {
        var block: [String: JSONValue] = [
            "identifiers": [.string(identifier(baseTopic: baseTopic))], "name": .string(name),
        ]
        block["manufacturer"] = manufacturer.map(JSONValue.string)
        block["model"] = model.map(JSONValue.string)
        block["model_id"] = modelID.map(JSONValue.string)
        block["sw_version"] = swVersion.map(JSONValue.string)
        block["hw_version"] = hwVersion.map(JSONValue.string)
        block["serial_number"] = serialNumber.map(JSONValue.string)
        block["configuration_url"] = configurationURL.map(JSONValue.string)
        block["via_device"] = viaDevice.map { .string("\(baseTopic)_\($0)") }
        return .object(block)
    }
}
