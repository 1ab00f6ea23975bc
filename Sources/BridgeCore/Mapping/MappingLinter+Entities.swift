/// Entity checks: the device class table, options, ranges, and keys a component ignores.
extension MappingLinter {
    /// Components that can carry `expire_after` in Home Assistant's MQTT schema.
    private static let expiring: Set<HAComponent> = [.sensor, .binarySensor]
    /// Components whose discovery payload has a unit.
    private static let withUnit: Set<HAComponent> = [.sensor, .number]
    /// Components that take options (event types for events).
    private static let withOptions: Set<HAComponent> = [.sensor, .select, .event]

    static func lintEntity(_ entity: EntityMapping, command: CommandMapping?, errors: inout [ConfigError]) {
        func report(_ key: String, _ message: String) {
            errors.append(entity.position(of: key).error(message))
        }
        let component = entity.component
        if entity.presence != nil, component != .deviceTracker || entity.child == nil {
            report("presence", "presence is for a device_tracker expanded over children (component: device_tracker with child:)")
        }
        if component.isWritable, command == nil {
            report(
                entity.writes("component") ? "component" : "id",
                "a \(component.rawValue) accepts commands: add a command with id '\(entity.id)' under commands, or use a read-only component"
            )
        }
        if let deviceClass = entity.deviceClass {
            checkDeviceClass(deviceClass, component: component, at: entity.position(of: "device_class"), errors: &errors)
        }
        if component == .sensor {
            lintSensor(entity, errors: &errors)
        } else {
            if entity.stateClass != nil { report("state_class", "state_class applies to sensors, not \(component.rawValue)") }
            if entity.precision != nil, component != .number {
                report("precision", "precision applies to numeric sensors and number controls")
            }
            if let deviceClass = entity.deviceClass, component == .number,
                let rule = DeviceClassTable.sensor[deviceClass], !rule.accepts(unit: entity.unit)
            {
                report(entity.writes("unit") ? "unit" : "device_class", unitMessage(entity.unit, deviceClass: deviceClass, rule: rule))
            }
        }
        if entity.unit != nil, !withUnit.contains(component) {
            report("unit", "a \(component.rawValue) has no unit")
        }
        if entity.options != nil, !withOptions.contains(component) {
            report("options", "options apply to select, event and enum sensors, not \(component.rawValue)")
        }
        if component == .select || component == .event, (entity.options ?? command?.options ?? []).isEmpty {
            report("component", component == .event ? "an event needs options (its event types)" : "a select needs options")
        }
        for key in ["min", "max", "step"] where entity.writes(key) && component != .number {
            report(key, "\(key) applies to number controls, not \(component.rawValue)")
        }
        if let min = entity.min, let max = entity.max, min >= max {
            report("max", "max must be greater than min (min \(JSONValue.format(min)), max \(JSONValue.format(max)))")
        }
        if entity.expireAfter != nil, !expiring.contains(component) {
            report("expire_after", "expire_after applies to sensors and binary sensors, not \(component.rawValue)")
        }
        if entity.entityCategory == .config, !component.isWritable {
            report("entity_category", "a \(component.rawValue) is read-only and cannot be in the config category (use diagnostic)")
        }
        lintChild(entity, errors: &errors)
    }

    private static func lintSensor(_ entity: EntityMapping, errors: inout [ConfigError]) {
        func report(_ key: String, _ message: String) {
            errors.append(entity.position(of: key).error(message))
        }
        /// Blame the key the file writes; a default can only be wrong because of the device class.
        func blame(_ key: String) -> String {
            entity.writes(key) ? key : "device_class"
        }
        if entity.options != nil {
            if entity.deviceClass != "enum" {
                report("options", "a sensor with options needs device_class: enum")
            } else if entity.unit != nil || entity.stateClass != nil {
                report(entity.unit != nil ? "unit" : "state_class", "an enum sensor has options, so it takes no unit or state_class")
                return
            }
        }
        if let stateClass = entity.stateClass, let units = DeviceClassTable.stateClassUnits[stateClass],
            !units.contains(entity.unit ?? "")
        {
            report(blame("unit"), "state_class \(stateClass.rawValue) needs the unit \(units.sorted().joined(separator: ", "))")
        }
        guard let deviceClass = entity.deviceClass, let rule = DeviceClassTable.sensor[deviceClass] else {
            if entity.precision != nil, entity.options != nil {
                report("precision", "precision applies to numeric values")
            }
            return
        }
        if deviceClass == "enum", (entity.options ?? []).isEmpty {
            report("device_class", "an enum sensor needs options (the values it can take)")
        }
        if !rule.accepts(unit: entity.unit) {
            report(blame("unit"), unitMessage(entity.unit, deviceClass: deviceClass, rule: rule))
        }
        if let stateClass = entity.stateClass, !rule.stateClasses.contains(stateClass) {
            let message: String
            if rule.stateClasses.isEmpty {
                message = "device_class \(deviceClass) is not numeric and takes no state_class"
            } else {
                let allowed = StateClass.allCases.filter(rule.stateClasses.contains).map(\.rawValue).joined(separator: " or ")
                message = "state_class \(stateClass.rawValue) is not valid for device_class \(deviceClass) (expected \(allowed))"
            }
            report(blame("state_class"), message)
        }
        if !rule.isNumeric, entity.precision != nil {
            report("precision", "precision applies to numeric values, not device_class \(deviceClass)")
        }
    }

    private static func lintChild(_ entity: EntityMapping, errors: inout [ConfigError]) {
        checkPaths(entity.sources, insideChild: entity.child != nil, errors: &errors)
        if let attributes = entity.attributesFrom {
            checkPaths([attributes], insideChild: entity.child != nil, errors: &errors)
        }
        guard let child = entity.child else { return }
        for source in entity.sources where source.endpoint != child.endpoint {
            errors.append(source.position.error(
                "inside a child entity every source reads the child's endpoint '\(child.endpoint)', got '\(source.endpoint)'"
            ))
        }
    }
}
