/// How state is published (design.md `output:`): one JSON object per device, one plain topic per
/// entity, or both. Discovery points Home Assistant at whichever exists.
public enum StateOutput: String, Sendable, Hashable, CaseIterable {
    case json
    case attribute
    case attributeAndJSON = "attribute_and_json"

    /// True when `<base>/<device>` carries the device's JSON object.
    public var publishesJSON: Bool { self != .attribute }
    /// True when `<base>/<device>/<entity>` carries plain values.
    public var publishesAttributes: Bool { self != .json }
}

/// A discovery config message: retained, QoS 1, on `<prefix>/<component>/<device>/<entity>/config`.
public struct DiscoveryMessage: Sendable, Hashable {
    public var topic: String
    public var payload: JSONValue
}

/// Everything topic- and origin-related that discovery payloads share, and the builder for them.
///
/// Topic contract (design.md):
/// - `<base>/<device>`: JSON of all current values (`output: json`)
/// - `<base>/<device>/<entity>`: plain value (`output: attribute`)
/// - `<base>/<device>/availability`: `online`/`offline`
/// - `<base>/<device>/<entity>/set`: commands
/// - `<prefix>/<component>/<device>/<entity>/config`: discovery, retained
public struct DiscoveryContext: Sendable, Hashable {
    public var baseTopic: String
    public var discoveryPrefix: String
    public var output: StateOutput
    public var build: BuildInfo

    public static let supportURL = "https://github.com/api2mqtt/api2mqtt"

    public init(baseTopic: String, discoveryPrefix: String, output: StateOutput = .json, build: BuildInfo = .current) {
        self.baseTopic = baseTopic
        self.discoveryPrefix = discoveryPrefix
        self.output = output
        self.build = build
    }

    public func deviceTopic(_ deviceID: String) -> String { "\(baseTopic)/\(deviceID)" }
    public func entityTopic(_ deviceID: String, _ entityID: String) -> String { "\(baseTopic)/\(deviceID)/\(entityID)" }
    public func availabilityTopic(_ deviceID: String) -> String { "\(baseTopic)/\(deviceID)/availability" }
    public func commandTopic(_ deviceID: String, _ entityID: String) -> String { "\(baseTopic)/\(deviceID)/\(entityID)/set" }
    public func attributesTopic(_ deviceID: String, _ entityID: String) -> String {
        "\(baseTopic)/\(deviceID)/\(entityID)/attributes"
    }
    public var bridgeStateTopic: String { BridgeTopics(base: baseTopic).state }

    public func configTopic(device: DiscoveryDevice, entity: DiscoveryEntity) -> String {
        "\(discoveryPrefix)/\(entity.component.rawValue)/\(device.discoveryNode ?? device.id)/\(entity.id)/config"
    }

    /// The filter matching every discovery topic this bridge could have published.
    public var configFilter: String { "\(discoveryPrefix)/+/+/+/config" }

    /// True when a retained discovery payload was published by this bridge instance: its first
    /// availability topic is our `<base>/bridge/state`. Other instances (other base topics) and
    /// other programs are never touched.
    public func isOurs(_ payload: JSONValue) -> Bool {
        guard case .array(let availability)? = payload["availability"], let first = availability.first else {
            return false
        }
        return first["topic"]?.stringValue == bridgeStateTopic
    }

    /// `unique_id`: `<base topic>_<device>_<entity>`, stable across restarts and display-name
    /// changes, and distinct between bridge instances (which use distinct base topics).
    public func uniqueID(device: DiscoveryDevice, entity: DiscoveryEntity) -> String {
        "\(baseTopic)_\(device.id)_\(entity.id)"
    }

    /// The discovery message for one entity of one device.
    public func message(device: DiscoveryDevice, entity: DiscoveryEntity) -> DiscoveryMessage {
        DiscoveryMessage(topic: configTopic(device: device, entity: entity), payload: payload(device: device, entity: entity))
    }

    /// The discovery payload.
    public func payload(device: DiscoveryDevice, entity: DiscoveryEntity) -> JSONValue {
        var payload: [String: JSONValue] = [
            "unique_id": .string(uniqueID(device: device, entity: entity)),
            "default_entity_id": .string("\(entity.component.rawValue).\(device.id)_\(entity.id)"),
            "name": .string(entity.name ?? Self.humanize(entity.id)),
            "device": device.block(baseTopic: baseTopic),
            "origin": [
                "name": "api2mqtt", "sw_version": .string(build.version), "support_url": .string(Self.supportURL),
            ],
            "availability": [
                ["topic": .string(bridgeStateTopic)], ["topic": .string(availabilityTopic(device.id))],
            ],
            "availability_mode": "all",
        ]
        payload["device_class"] = entity.deviceClass.map(JSONValue.string)
        payload["state_class"] = entity.stateClass.map(JSONValue.string)
        payload["unit_of_measurement"] = entity.unit.map(JSONValue.string)
        payload["entity_category"] = entity.entityCategory.map(JSONValue.string)
        payload["icon"] = entity.icon.map(JSONValue.string)
        payload["suggested_display_precision"] = entity.suggestedDisplayPrecision.map { .number(Double($0)) }
        payload["expire_after"] = entity.expireAfter.map { .number(Double($0)) }
        if !entity.enabledByDefault { payload["enabled_by_default"] = false }
        if entity.hasAttributes {
            payload["json_attributes_topic"] = .string(attributesTopic(device.id, entity.id))
        }
        if entity.writable { payload["command_topic"] = .string(commandTopic(device.id, entity.id)) }
        if entity.hasState { addState(to: &payload, device: device, entity: entity) }
        addComponentFields(to: &payload, entity: entity)
        return .object(payload)
    }

    /// Where the state comes from: the device JSON with a template, or the entity's plain topic.
    private func addState(to payload: inout [String: JSONValue], device: DiscoveryDevice, entity: DiscoveryEntity) {
        if entity.component == .event {
            // Events are not part of the retained device state (a republish would fire them again).
            payload["state_topic"] = .string(entityTopic(device.id, entity.id))
            return
        }
        // A text entity shows any payload as its text (Home Assistant has no "unknown" payload
        // for it, and refuses a value its pattern or length forbids), so it reads its own plain
        // topic, which carries a message only once it has a value.
        if output.publishesJSON && entity.component != .text {
            payload["state_topic"] = .string(deviceTopic(device.id))
            payload["value_template"] = .string(Self.valueTemplate(for: entity))
        } else {
            payload["state_topic"] = .string(entityTopic(device.id, entity.id))
        }
    }

    /// Booleans render as `True`/`False` through a JSON template and as `ON`/`OFF` on plain topics.
    private var booleanOn: String { output.publishesJSON ? "True" : "ON" }
    private var booleanOff: String { output.publishesJSON ? "False" : "OFF" }

    private func addComponentFields(to payload: inout [String: JSONValue], entity: DiscoveryEntity) {
        switch entity.component {
        case .binarySensor:
            payload["payload_on"] = .string(booleanOn)
            payload["payload_off"] = .string(booleanOff)
        case .switch:
            payload["payload_on"] = "ON"
            payload["payload_off"] = "OFF"
            payload["state_on"] = .string(booleanOn)
            payload["state_off"] = .string(booleanOff)
        case .number:
            payload["min"] = entity.min.map(JSONValue.number)
            payload["max"] = entity.max.map(JSONValue.number)
            payload["step"] = entity.step.map(JSONValue.number)
            payload["mode"] = "box"
        case .select:
            payload["options"] = .array((entity.options ?? []).map(JSONValue.string))
        case .text:
            payload["max"] = entity.maxLength.map { .number(Double($0)) }
            payload["pattern"] = entity.pattern.map(JSONValue.string)
        case .button:
            payload["payload_press"] = .string(CommandValidation.pressPayload)  // the only payload a button accepts
        case .deviceTracker:
            payload["payload_home"] = "home"
            payload["payload_not_home"] = "not_home"
            payload["source_type"] = "router"
        case .event:
            payload["event_types"] = .array((entity.options ?? []).map(JSONValue.string))
        case .sensor:
            if let options = entity.options { payload["options"] = .array(options.map(JSONValue.string)) }
        case .update:
            break
        }
    }

    /// The template that reads an entity's value from its device's JSON state.
    ///
    /// A device's JSON holds only the values read so far (before the first reading, or when
    /// only another endpoint answered, a key is missing), so a plain `{{ value_json.x }}` makes
    /// Home Assistant log a template warning for every missing key on every message. With
    /// `default(None)` a missing key renders `None`, which HA's MQTT platforms read as
    /// "unknown" (a JSON `null` renders `None` too). Device trackers hold `home` / `not_home`
    /// in the JSON and pass it through (`None` resets them to unknown). Text entities read
    /// their own topic instead (see `addState`).
    public static func valueTemplate(for entity: DiscoveryEntity) -> String {
        let value = entity.id.first.map { $0.isLetter || $0 == "_" } == true ? "value_json.\(entity.id)" : "value_json['\(entity.id)']"
        return "{{ \(value) | default(None) }}"
    }

    /// `power_import` → `Power import`.
    public static func humanize(_ id: String) -> String {
        let words = id.split(separator: "_").map(String.init)
        guard let first = words.first else { return id }
        return ([first.prefix(1).uppercased() + first.dropFirst()] + words.dropFirst()).joined(separator: " ")
    }
}
