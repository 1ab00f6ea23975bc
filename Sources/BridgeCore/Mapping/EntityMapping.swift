/// One entity of a source: where its value comes from, how it is scaled, and how Home
/// Assistant should see it.
///
/// Read from an `entities:` item of a mapping file; ``MappingLoader`` fills the defaults
/// (`name` from the id, `unit` and `state_class` from ``DeviceClassTable``).
public struct EntityMapping: Sendable, Hashable, Identifiable {
    /// Stable snake_case id; the `<entity>` topic level and part of `unique_id`.
    public var id: String
    /// The name Home Assistant shows; defaults to the id in sentence case.
    public var name: String
    /// The discovery component; `sensor` by default.
    public var component: HAComponent
    /// Where the value comes from; alternatives, the first present wins.
    public var sources: [ValueSource]
    /// Transforms applied after the chosen source's own, in file order.
    public var transforms: [ValueTransform]
    /// Decimals to round to at the end; also `suggested_display_precision`.
    public var precision: Int?
    /// Home Assistant device class (`power`, `energy`, `connectivity`, …).
    public var deviceClass: String?
    /// Statistics class; sensors only.
    public var stateClass: StateClass?
    /// Unit of measurement of the published value (after transforms).
    public var unit: String?
    /// `config` or `diagnostic`; `nil` for a primary entity.
    public var entityCategory: EntityCategory?
    /// Material Design icon (`mdi:flash`).
    public var icon: String?
    /// Whether Home Assistant enables the entity when it first sees it.
    public var enabledByDefault: Bool
    /// `false` removes the entity (used by overlays to drop a built-in one).
    public var enabled: Bool
    /// The values an enum sensor, a select or an event can take.
    public var options: [String]?
    /// Lowest value of a number control.
    public var min: Double?
    /// Highest value of a number control.
    public var max: Double?
    /// Step of a number control.
    public var step: Double?
    /// How long a value stays valid without an update (`expire_after`), for streamed values.
    public var expireAfter: Duration?
    /// The shortest time between two publications of a changing value.
    public var debounce: Duration?
    /// An object in a document whose members become the entity's attributes.
    public var attributesFrom: ValueSource?
    /// Expands the entity into one per list item, each on a child device.
    public var child: ChildExpansion?
    /// Presence rules of a `device_tracker` over children (network clients).
    public var presence: PresenceSettings?
    /// Where the entity is written.
    public var position: MappingPosition
    /// Where each key the file writes is: the value's position, keyed by the YAML key
    /// (`unit`, `device_class`, `from`, `scale`, …). Keys not written are absent.
    public var keyPositions: [String: MappingPosition]

    /// Creates an entity; everything but the id and the sources has a default.
    public init(
        id: String,
        name: String? = nil,
        component: HAComponent = .sensor,
        sources: [ValueSource],
        transforms: [ValueTransform] = [],
        precision: Int? = nil,
        deviceClass: String? = nil,
        stateClass: StateClass? = nil,
        unit: String? = nil,
        entityCategory: EntityCategory? = nil,
        icon: String? = nil,
        enabledByDefault: Bool = true,
        enabled: Bool = true,
        options: [String]? = nil,
        min: Double? = nil,
        max: Double? = nil,
        step: Double? = nil,
        expireAfter: Duration? = nil,
        debounce: Duration? = nil,
        attributesFrom: ValueSource? = nil,
        child: ChildExpansion? = nil,
        position: MappingPosition = .unknown(),
        keyPositions: [String: MappingPosition] = [:]
    ) {
        self.id = id
        self.name = name ?? EntityMapping.defaultName(for: id)
        self.component = component
        self.sources = sources
        self.transforms = transforms
        self.precision = precision
        self.deviceClass = deviceClass
        self.stateClass = stateClass
        self.unit = unit
        self.entityCategory = entityCategory
        self.icon = icon
        self.enabledByDefault = enabledByDefault
        self.enabled = enabled
        self.options = options
        self.min = min
        self.max = max
        self.step = step
        self.expireAfter = expireAfter
        self.debounce = debounce
        self.attributesFrom = attributesFrom
        self.child = child
        self.position = position
        self.keyPositions = keyPositions
    }

    /// Whether the value is numeric: a sensor with a unit, a state class or a numeric device
    /// class, or a number control.
    public var isNumeric: Bool {
        switch component {
        case .number:
            return true
        case .sensor:
            if unit != nil || stateClass != nil || precision != nil { return true }
            return deviceClass.flatMap { DeviceClassTable.sensor[$0]?.isNumeric } ?? false
        default:
            return false
        }
    }

    /// The endpoints this entity reads.
    public var endpoints: Set<String> {
        Set(sources.map(\.endpoint))
    }

    /// `power_import` → `Power import`.
    public static func defaultName(for id: String) -> String {
        let words = id.split(whereSeparator: { $0 == "_" || $0 == "-" }).joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }
}
