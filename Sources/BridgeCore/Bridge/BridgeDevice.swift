/// The bridge's own Home Assistant device: a connectivity sensor per source, the version, a
/// restart button (restarts the sources, not the process) and a "republish discovery" button.
/// Its state lives on `<base>/bridge` as JSON, its commands on `<base>/bridge/<entity>/set`.
struct BridgeDevice {
    static let id = "bridge"
    let configuration: BridgeConfiguration
    let build: BuildInfo

    var device: DiscoveryDevice {
        let base = configuration.mqtt.baseTopic
        var device = DiscoveryDevice(
            id: Self.id, name: base == "api2mqtt" ? "api2mqtt bridge" : "api2mqtt bridge (\(base))",
            manufacturer: "api2mqtt", model: "api2mqtt", swVersion: build.version)
        device.discoveryNode = Self.discoveryNode(base: base)
        return device
    }

    /// The node of the bridge device's discovery topics: `bridge` under the default base topic,
    /// `<base>_bridge` under any other (`/` and other characters Home Assistant does not allow
    /// there become `_`), so that instances with distinct base topics sharing one discovery
    /// prefix never overwrite each other's bridge device.
    static func discoveryNode(base: String) -> String {
        guard base != MQTTSettings.defaultBaseTopic else { return id }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
        return String(base.map { allowed.contains($0) ? $0 : "_" }) + "_" + id
    }

    static func connectivityID(_ sourceID: String) -> String { "connectivity_\(sourceID)" }

    var entities: [DiscoveryEntity] {
        var entities = [
            DiscoveryEntity(
                id: "version", component: .sensor, name: "Version", entityCategory: "diagnostic", icon: "mdi:information"),
            DiscoveryEntity(
                id: "restart", component: .button, name: "Restart sources", deviceClass: "restart",
                entityCategory: "config", writable: true, hasState: false),
            DiscoveryEntity(
                id: "republish_discovery", component: .button, name: "Republish discovery", entityCategory: "config",
                icon: "mdi:home-assistant", writable: true, hasState: false),
        ]
        for source in configuration.sources where source.enabled {
            entities.append(
                DiscoveryEntity(
                    id: Self.connectivityID(source.id), component: .binarySensor, name: "\(source.name) connection",
                    deviceClass: "connectivity", entityCategory: "diagnostic"))
        }
        return entities
    }

    /// The writable entities and what their commands accept, for the command router: both are
    /// buttons, so only Home Assistant's `payload_press` (`PRESS`), like every mapping button.
    static let commands: [String: CommandValidation] = ["restart": .press, "republish_discovery": .press]
}
