/// What Home Assistant needs to know about one entity, independent of where its value comes from.
/// Built from a mapping entity or command (or by the bridge for its own device).
public struct DiscoveryEntity: Sendable, Hashable {
    /// The MQTT platform: the mapping's own component type (raw values are the component names
    /// in discovery topics).
    public typealias Component = HAComponent

    /// Snake-case entity id within its device (stable: `unique_id` is derived from it).
    public var id: String
    public var component: Component
    /// Display name; nil lets Home Assistant use the device class name.
    public var name: String?
    public var deviceClass: String?
    public var stateClass: String?
    public var unit: String?
    /// `config` or `diagnostic`.
    public var entityCategory: String?
    public var icon: String?
    public var enabledByDefault: Bool
    public var suggestedDisplayPrecision: Int?
    /// Seconds after which Home Assistant marks the value unavailable (streamed values).
    public var expireAfter: Int?
    /// Present for writable components: they get a `command_topic`.
    public var writable: Bool
    /// Whether the entity has a state at all (buttons do not).
    public var hasState: Bool
    /// Options for `select` and enum sensors; event types for `event`.
    public var options: [String]?
    public var min: Double?
    public var max: Double?
    public var step: Double?
    /// Text entities: limits and pattern.
    public var maxLength: Int?
    public var pattern: String?
    /// Publishes the entity's attributes on `<base>/<device>/<entity>/attributes`.
    public var hasAttributes: Bool

    public init(
        id: String, component: Component, name: String? = nil, deviceClass: String? = nil, stateClass: String? = nil,
        unit: String? = nil, entityCategory: String? = nil, icon: String? = nil, enabledByDefault: Bool = true,
        suggestedDisplayPrecision: Int? = nil, expireAfter: Int? = nil, writable: Bool = false, hasState: Bool = true,
        options: [String]? = nil, min: Double? = nil, max: Double? = nil, step: Double? = nil, maxLength: Int? = nil,
        pattern: String? = nil, hasAttributes: Bool = false
    ) {
        self.id = id
        self.component = component
        self.name = name
        self.deviceClass = deviceClass
        self.stateClass = stateClass
        self.unit = unit
        self.entityCategory = entityCategory
        self.icon = icon
        self.enabledByDefault = enabledByDefault
        self.suggestedDisplayPrecision = suggestedDisplayPrecision
        self.expireAfter = expireAfter
        self.writable = writable
        self.hasState = hasState
        self.options = options
        self.min = min
        self.max = max
        self.step = step
        self.maxLength = maxLength
        self.pattern = pattern
        self.hasAttributes = hasAttributes
    }
}
