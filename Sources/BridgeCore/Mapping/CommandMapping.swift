/// One command of a source: how an MQTT set-payload is validated and which API call it becomes.
///
/// A command with a writable component (`switch`, `number`, `select`, `text`, `button`) is
/// also a Home Assistant entity; its state comes from `state` or from the entity with the
/// same id. When an entity has the same id, the pair is ONE Home Assistant entity: the entity
/// gives state and metadata, the command the command topic and validation (and the command
/// inherits the entity's component, child, options and range unless it writes its own).
/// A command without a component is reachable over MQTT only.
public struct CommandMapping: Sendable, Hashable, Identifiable {
    /// Stable snake_case id; the `<entity>` topic level of `<device>/<entity>/set`.
    public var id: String
    /// The name Home Assistant shows; defaults to the id in sentence case.
    public var name: String
    /// The discovery component, or `nil` for a command with no Home Assistant entity.
    public var component: HAComponent?
    /// `config` or `diagnostic`.
    public var entityCategory: EntityCategory?
    /// Material Design icon.
    public var icon: String?
    /// Device class for the control (`restart` for a button, `outlet` for a switch, …).
    public var deviceClass: String?
    /// Unit of a number control.
    public var unit: String?
    /// Where the control's current state comes from, when no entity with the same id gives it.
    public var state: ValueSource?
    /// What a payload must be before any call is made.
    public var validation: CommandValidation
    /// Transforms from the validated value to the API's value (`scale: 1000` for V → mV,
    /// `map: { true: 1, false: 0 }`), applied before the call is rendered.
    public var transforms: [ValueTransform]
    /// The call to make, or the adapter action to run; `nil` is a lint error.
    public var target: CommandTarget?
    /// Options of a select (validation checks them).
    public var options: [String]?
    /// Lowest value of a number control.
    public var min: Double?
    /// Highest value of a number control.
    public var max: Double?
    /// Step of a number control.
    public var step: Double?
    /// The control's command expands per child (one per connector); `$child` in the call
    /// is the child's id as the API knows it.
    public var child: ChildExpansion?
    /// Whether Home Assistant enables the control when it first sees it.
    public var enabledByDefault: Bool
    /// `false` removes the command (used by overlays).
    public var enabled: Bool
    /// Where the command is written.
    public var position: MappingPosition
    /// Where each key the file writes is, keyed by the YAML key.
    public var keyPositions: [String: MappingPosition]

    /// Creates a command.
    public init(
        id: String,
        name: String? = nil,
        component: HAComponent? = nil,
        entityCategory: EntityCategory? = nil,
        icon: String? = nil,
        deviceClass: String? = nil,
        unit: String? = nil,
        state: ValueSource? = nil,
        validation: CommandValidation = CommandValidation(kind: .none),
        transforms: [ValueTransform] = [],
        target: CommandTarget?,
        options: [String]? = nil,
        min: Double? = nil,
        max: Double? = nil,
        step: Double? = nil,
        child: ChildExpansion? = nil,
        enabledByDefault: Bool = true,
        enabled: Bool = true,
        position: MappingPosition = .unknown(),
        keyPositions: [String: MappingPosition] = [:]
    ) {
        self.id = id
        self.name = name ?? EntityMapping.defaultName(for: id)
        self.component = component
        self.entityCategory = entityCategory
        self.icon = icon
        self.deviceClass = deviceClass
        self.unit = unit
        self.state = state
        self.validation = validation
        self.transforms = transforms
        self.target = target
        self.options = options
        self.min = min
        self.max = max
        self.step = step
        self.child = child
        self.enabledByDefault = enabledByDefault
        self.enabled = enabled
        self.position = position
        self.keyPositions = keyPositions
    }

    /// Validates a payload, then applies the command's transforms: the value to render into
    /// the call.
    ///
    /// - Returns: The API's value, or why the payload is refused (no call may be made).
    public func prepare(_ payload: JSONValue) -> Result<JSONValue, ValidationFailure> {
        validation.validate(payload).flatMap(transformed)
    }

    /// The same for a plain MQTT payload, validated as text (see ``CommandValidation/validate(text:)``).
    public func prepare(text: String) -> Result<JSONValue, ValidationFailure> {
        validation.validate(text: text).flatMap(transformed)
    }

    private func transformed(_ value: JSONValue) -> Result<JSONValue, ValidationFailure> {
        transforms.apply(to: value).mapError { ValidationFailure(message: $0.description) }
    }
}

/// What a command does.
public enum CommandTarget: Sendable, Hashable {
    /// One HTTP call, rendered from the payload.
    case call(MappedCall)
    /// A named action implemented by the source's adapter, for what one call cannot express
    /// (OCPP remote start: look up the transaction, then call).
    case action(String)
}
