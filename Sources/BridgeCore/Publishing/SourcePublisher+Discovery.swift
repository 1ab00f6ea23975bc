#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension SourcePublisher {
    /// The Home Assistant device of the source itself.
    var mainDevice: DiscoveryDevice {
        DiscoveryDevice(
            id: deviceID,
            name: deviceFields[.name] ?? mapping.device.literal(.name) ?? configuration.name,
            manufacturer: deviceFields[.manufacturer] ?? mapping.device.literal(.manufacturer),
            model: deviceFields[.model] ?? mapping.device.literal(.model),
            modelID: deviceFields[.modelID] ?? mapping.device.literal(.modelID),
            swVersion: deviceFields[.swVersion] ?? mapping.device.literal(.swVersion),
            hwVersion: deviceFields[.hwVersion] ?? mapping.device.literal(.hwVersion),
            serialNumber: deviceFields[.serialNumber] ?? mapping.device.literal(.serialNumber),
            configurationURL: configuration.url.map { "\($0.scheme ?? "http")://\($0.host ?? "")\($0.port.map { ":\($0)" } ?? "")" })
    }

    /// The Home Assistant device of a child, linked by `via_device` to its parent child (a
    /// connector to its charge point) or else to the main device.
    func childDevice(_ child: ChildDevice) -> DiscoveryDevice {
        DiscoveryDevice(
            id: deviceID(child: child.id),
            name: child.name,
            manufacturer: child.device[.manufacturer],
            model: child.device[.model],
            modelID: child.device[.modelID],
            swVersion: child.device[.swVersion],
            hwVersion: child.device[.hwVersion],
            serialNumber: child.device[.serialNumber],
            viaDevice: child.parentID.map { deviceID(child: $0) } ?? deviceID)
    }

    /// Every discovery message this source produces now: the main device's entities and, for
    /// every known child, the entities of its kind.
    public func discoveryMessages() -> [DiscoveryMessage] {
        var messages = entities(forChildKind: nil).map { context.message(device: mainDevice, entity: $0) }
        // The entities of a kind are the same for each of its children: worked out once per kind.
        var entitiesOfKind: [String: [DiscoveryEntity]] = [:]
        for record in children.values.sorted(by: { $0.child.id < $1.child.id }) {
            let device = childDevice(record.child)
            let kind = record.child.kind
            let entities = entitiesOfKind[kind] ?? entities(forChildKind: kind)
            entitiesOfKind[kind] = entities
            messages += entities.map { context.message(device: device, entity: $0) }
        }
        return messages
    }

    /// Publishes discovery for the main device (when `main`) and the given children (only what
    /// changed goes out; the discovery publisher renders each payload as it sends it). Returns
    /// once the broker has every config, so that the states the caller publishes next come after
    /// them (design.md: Home Assistant gets a device's configs before its first state).
    func publishDiscovery(main: Bool, children childIDs: [String]) async {
        var devices: [(device: DiscoveryDevice, entities: [DiscoveryEntity])] = []
        devices.reserveCapacity(childIDs.count + 1)
        if main { devices.append((mainDevice, entities(forChildKind: nil))) }
        // The entities of a kind are the same for each of its children: one array, which the
        // discovery publisher keeps once for all of them.
        for childID in childIDs {
            guard let child = children[childID]?.child else { continue }
            devices.append((childDevice(child), kindEntities(child.kind)))
        }
        await discovery.update(devices)
    }

    /// The entities of a child kind, the same array (one storage) every time it is asked for.
    private func kindEntities(_ kind: String) -> [DiscoveryEntity] {
        if let entities = discoveryEntitiesByKind[kind] { return entities }
        let entities = entities(forChildKind: kind)
        discoveryEntitiesByKind[kind] = entities
        return entities
    }

    /// The Home Assistant entities of the main device (`kind == nil`) or of one child kind: each
    /// mapping entity, merged with the command of the same id (which makes it writable), plus
    /// commands that have no entity of their own.
    func entities(forChildKind kind: String?) -> [DiscoveryEntity] {
        let acceptsCommands = !configuration.readOnly
        var result: [DiscoveryEntity] = []
        var covered: Set<String> = []
        for entity in mapping.entities where entity.enabled && entity.child?.kind == kind {
            let command = acceptsCommands ? mapping.command(entity.id).flatMap { $0.enabled ? $0 : nil } : nil
            covered.insert(entity.id)
            let discovered = Self.discoveryEntity(entity, command: command)
            if entity.component.isWritable && !discovered.writable {
                // Home Assistant rejects a number/select/switch/text/button without command_topic.
                if let shown = Self.readOnlyView(of: discovered) { result.append(shown) }
            } else {
                result.append(discovered)
            }
        }
        guard acceptsCommands else { return result }
        for command in mapping.commands where command.enabled && command.child?.kind == kind && !covered.contains(command.id) {
            result.append(Self.discoveryEntity(command))
        }
        return result
    }

    static func discoveryEntity(_ entity: EntityMapping, command: CommandMapping?) -> DiscoveryEntity {
        DiscoveryEntity(
            id: entity.id,
            component: entity.component,
            name: entity.name,
            deviceClass: entity.deviceClass,
            stateClass: entity.stateClass?.rawValue,
            unit: entity.unit,
            entityCategory: entity.entityCategory?.rawValue,
            icon: entity.icon,
            enabledByDefault: entity.enabledByDefault,
            suggestedDisplayPrecision: entity.precision,
            expireAfter: entity.expireAfter.map { Int($0.components.seconds) },
            writable: command != nil && entity.component.isWritable,
            hasState: entity.component != .button,
            options: entity.options ?? command?.options,
            min: entity.min ?? command?.min ?? command?.validation.min,
            max: entity.max ?? command?.max ?? command?.validation.max,
            step: entity.step ?? command?.step,
            maxLength: command?.validation.maxLength,
            pattern: command?.validation.pattern,
            hasAttributes: entity.attributesFrom != nil)
    }

    /// A control that cannot be commanded (its source is `read_only`) shown as the matching
    /// read-only component; a button has nothing to show.
    static func readOnlyView(of entity: DiscoveryEntity) -> DiscoveryEntity? {
        var entity = entity
        switch entity.component {
        case .switch:
            entity.component = .binarySensor
            entity.deviceClass = nil
        case .number:
            entity.component = .sensor
        case .select:
            entity.component = .sensor
            entity.deviceClass = entity.options == nil ? nil : "enum"
            entity.stateClass = nil
            entity.unit = nil
        case .text:
            entity.component = .sensor
            entity.deviceClass = nil
        case .button:
            return nil
        default:
            break
        }
        return entity
    }

    static func discoveryEntity(_ command: CommandMapping) -> DiscoveryEntity {
        let component = command.component ?? .button
        return DiscoveryEntity(
            id: command.id,
            component: component,
            name: command.name,
            deviceClass: command.deviceClass,
            unit: command.unit,
            entityCategory: command.entityCategory?.rawValue,
            icon: command.icon,
            enabledByDefault: command.enabledByDefault,
            writable: true,
            hasState: component != .button && command.state != nil,
            options: command.options ?? command.validation.options,
            min: command.min ?? command.validation.min,
            max: command.max ?? command.validation.max,
            step: command.step,
            maxLength: command.validation.maxLength,
            pattern: command.validation.pattern)
    }
}
