#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checks loaded mappings for what Home Assistant would reject or what cannot work, so
/// `api2mqtt mappings lint` and the daemon's start-up refuse a broken mapping.
///
/// Errors use the configuration's format, pointing at the key to fix:
///
/// ```
/// Mappings/tinybms.yaml:14:11: entities[0].unit: 'mV' is not a valid unit for device_class voltage (expected V, …)
/// ```
///
/// Every device_class / unit / state_class combination is checked against
/// ``DeviceClassTable``, the one place Home Assistant's rules are recorded.
public enum MappingLinter {
    /// Lints several mappings; errors in file order.
    public static func lint(_ mappings: [String: MappingFile]) -> [ConfigError] {
        sorted(mappings.keys.sorted().flatMap { mappings[$0].map(lint) ?? [] })
    }

    /// Lints one mapping; errors in file order.
    public static func lint(_ mapping: MappingFile) -> [ConfigError] {
        var errors: [ConfigError] = []
        duplicates(mapping.entities.map { ($0.id, $0.position(of: "id")) }, noun: "entity", errors: &errors)
        duplicates(mapping.commands.map { ($0.id, $0.position(of: "id")) }, noun: "command", errors: &errors)
        let commands = Dictionary(mapping.commands.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let entities = Dictionary(mapping.entities.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for entity in mapping.entities {
            lintEntity(entity, command: commands[entity.id], errors: &errors)
        }
        for command in mapping.commands {
            lintCommand(command, entity: entities[command.id], errors: &errors)
        }
        return sorted(errors)
    }

    /// Loads the built-in folder and an overlay and lints what loaded, for
    /// `api2mqtt mappings lint [DIR]`: structural and combination errors together, in file order.
    public static func check(
        builtIn directory: String,
        overlay: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [ConfigError] {
        let (mappings, errors) = MappingLoader.collect(builtIn: directory, overlay: overlay, environment: environment)
        return sorted(errors + lint(mappings))
    }

    /// Errors sorted by file, line and column (stable).
    static func sorted(_ errors: [ConfigError]) -> [ConfigError] {
        errors.enumerated()
            .sorted { ($0.element.file, $0.element.line, $0.element.column, $0.offset) < ($1.element.file, $1.element.line, $1.element.column, $1.offset) }
            .map(\.element)
    }

    private static func duplicates(_ ids: [(String, MappingPosition)], noun: String, errors: inout [ConfigError]) {
        var first: [String: MappingPosition] = [:]
        for (id, position) in ids {
            if let earlier = first[id] {
                errors.append(position.error("duplicate \(noun) id '\(id)' (first defined at \(earlier.file):\(earlier.line))"))
            } else {
                first[id] = position
            }
        }
    }

    // MARK: - Commands

    private static func lintCommand(_ command: CommandMapping, entity: EntityMapping?, errors: inout [ConfigError]) {
        func report(_ key: String, _ message: String) {
            errors.append(command.position(of: key).error(message))
        }
        if command.target == nil {
            errors.append(command.position.error("a command needs a call or an action"))
        }
        if let component = command.component, !component.isWritable {
            report("component", "a command's component is switch, number, select, text or button; \(component.rawValue) is read-only")
        }
        if let entity, !entity.component.isWritable {
            report("id", "command '\(command.id)' has the id of the \(entity.component.rawValue) entity '\(entity.id)'; only a writable entity pairs with a command")
        }
        if let entity, command.state != nil {
            report("state", "the entity '\(entity.id)' already gives this control's state; remove state: or the entity")
        }
        if let entity, let component = command.component, entity.component != component {
            report("component", "the entity '\(entity.id)' is a \(entity.component.rawValue), but its command is a \(component.rawValue)")
        }
        if let component = command.component, let deviceClass = command.deviceClass {
            checkDeviceClass(deviceClass, component: component, at: command.position(of: "device_class"), errors: &errors)
            if component == .number, let rule = DeviceClassTable.sensor[deviceClass], !rule.accepts(unit: command.unit) {
                report(command.writes("unit") ? "unit" : "device_class", unitMessage(command.unit, deviceClass: deviceClass, rule: rule))
            }
        }
        checkRange(min: command.min, max: command.max, at: command.position(of: "max"), errors: &errors)
        if command.writes("validate") {
            checkRange(min: command.validation.min, max: command.validation.max, at: command.position(of: "validate"), errors: &errors)
        }
        let validation = command.validation
        if validation.kind == .enum, (validation.options ?? []).isEmpty {
            report(command.writes("validate") ? "validate" : "component", "an enum command needs options")
        }
        if validation.pattern != nil || validation.maxLength != nil, validation.kind != .string {
            report("validate", "pattern and max_length apply to type string, not \(validation.kind.rawValue)")
        }
        if command.component == .button, validation != .press {
            report(
                "validate",
                "a button accepts only Home Assistant's payload_press; leave validate out "
                    + "(it is { type: enum, options: [\(CommandValidation.pressPayload)] })")
        }
        if command.component == .number, command.min == nil || command.max == nil {
            report("component", "a number control needs min and max (Home Assistant would assume 1 to 100)")
        }
        if command.options != nil, command.component != .select {
            report("options", "options apply to select controls")
        }
        if case .call(let call) = command.target, call.usesChild, command.child == nil {
            report("call", "the call uses $child, but the command has no child:")
        }
        if let state = command.state {
            checkPaths([state], insideChild: command.child != nil, errors: &errors)
        }
    }

    private static func checkRange(min: Double?, max: Double?, at position: MappingPosition, errors: inout [ConfigError]) {
        guard let min, let max, min >= max else { return }
        errors.append(position.error("max must be greater than min (min \(JSONValue.format(min)), max \(JSONValue.format(max)))"))
    }

    // MARK: - Shared checks

    /// Reports a device class the component does not know.
    static func checkDeviceClass(_ deviceClass: String, component: HAComponent, at position: MappingPosition, errors: inout [ConfigError]) {
        guard let known = DeviceClassTable.deviceClasses(for: component) else {
            errors.append(position.error("\(component.rawValue) entities have no device_class"))
            return
        }
        guard !known.contains(deviceClass) else { return }
        var message = "unknown device_class '\(deviceClass)' for \(component.rawValue)"
        if let suggestion = KeySuggestion.closest(to: deviceClass, among: known.sorted()) {
            message += " (did you mean '\(suggestion)'?)"
        }
        errors.append(position.error(message))
    }

    /// "'mV' is not a valid unit for device_class energy (expected …)".
    static func unitMessage(_ unit: String?, deviceClass: String, rule: DeviceClassTable.Rule) -> String {
        switch (rule.units, unit) {
        case (.none, let unit?):
            return "device_class \(deviceClass) takes no unit, got '\(unit)'"
        case (.currency, let unit?):
            return "device_class \(deviceClass) needs an ISO 4217 currency code such as EUR or SEK, got '\(unit)'"
        case (.currency, nil):
            return "device_class \(deviceClass) needs a currency code as its unit, such as EUR or SEK"
        case (_, nil):
            return "device_class \(deviceClass) needs a unit (\(rule.allowedUnits.joined(separator: ", ")))"
        case (_, let unit?):
            return "'\(unit)' is not a valid unit for device_class \(deviceClass) "
                + "(expected \(rule.allowedUnits.joined(separator: ", ")); use scale or convert to change units)"
        }
    }

    /// Reports `[*]` in a value path, and child placeholders outside a child entity.
    static func checkPaths(_ sources: [ValueSource], insideChild: Bool, errors: inout [ConfigError]) {
        for source in sources {
            let at = source.pathPosition
            if source.path.hasWildcard {
                errors.append(at.error("'\(source.path.text)' addresses several values; use child: to expand a list"))
            }
            if source.path.usesChild, !insideChild {
                errors.append(at.error("'\(source.path.text)' uses $child or [$index], which only a child entity has"))
            }
        }
    }
}
