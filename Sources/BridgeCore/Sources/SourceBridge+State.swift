import Logging

extension SourceBridge {
    /// Applies readings: counter guard for `total_increasing`, change filter (with per-entity
    /// debounce and the republish interval), then one state publish per changed device.
    func apply(_ readings: [Reading], at instant: Instant, sourceSaysReset: Bool) {
        var dirty = DirtyDevices()
        for reading in readings {
            let device = reading.childID.map { deviceID(child: $0) } ?? deviceID
            let entity = traits[reading.entityID]
            let key = device + "/" + reading.entityID
            if entity?.component == .event {
                publishEvent(reading, device: device)
                continue
            }
            if entity?.stateClass == .totalIncreasing, let number = reading.value.numberValue {
                let verdict = counterGuard.check(key: key, value: number, now: instant, sourceSaysReset: sourceSaysReset)
                switch verdict {
                case .withheld(let reason, let firstTime):
                    if firstTime {
                        logger.warning(
                            "Energy counter went backwards; withheld as a glitch",
                            metadata: [
                                "entity.id": "\(reading.entityID)", "device.id": "\(device)", "value": "\(number)",
                                "last": "\(counterGuard.lastAccepted(key: key) ?? 0)", "reason": "\(reason)",
                            ])
                    }
                    continue
                case .acceptedReset(let previous):
                    logger.notice(
                        "Energy counter reset accepted",
                        metadata: ["entity.id": "\(reading.entityID)", "previous": "\(previous)", "value": "\(number)"])
                case .accepted:
                    break
                }
            }
            if let attributes = reading.attributes { publishAttributes(attributes, device: device, entity: reading.entityID) }
            switch changeFilter.offer(key: key, value: reading.value, debounce: entity?.debounce, now: instant) {
            case .publish(let value):
                store(value, device: device, entity: reading.entityID)
                dirty.insert(device)
            case .suppress, .hold:
                break
            }
        }
        publishDevices(dirty)
    }

    /// Records a value to publish; with per-entity output it goes out at once.
    func store(_ value: ReadingValue, device: String, entity: String) {
        values[device, default: [:]][entity] = value.jsonValue
        if settings.output.publishesAttributes {
            send(OutboundMessage(topic: context.entityTopic(device, entity), string: value.rendered, qos: 0, retain: settings.retain))
        }
    }

    /// Publishes the JSON object of every device in `devices`.
    func publishDevices(_ devices: DirtyDevices) {
        guard settings.output.publishesJSON else { return }
        for device in devices.order {
            guard let current = values[device] else { continue }
            send(
                OutboundMessage(
                    topic: context.deviceTopic(device), payload: JSONValue.object(current).jsonBytes, qos: 0,
                    retain: settings.retain))
        }
    }

    private func publishAttributes(_ attributes: JSONValue, device: String, entity: String) {
        let key = "\(device)/\(entity)"
        guard lastAttributes[key] != attributes else { return }
        lastAttributes[key] = attributes
        send(
            OutboundMessage(
                topic: context.attributesTopic(device, entity), payload: attributes.jsonBytes, qos: 0, retain: settings.retain))
    }

    /// Events are momentary: published unretained, never part of the device's JSON state.
    private func publishEvent(_ reading: Reading, device: String) {
        guard case .string(let type) = reading.value else { return }
        var payload: [String: JSONValue] = ["event_type": .string(type)]
        if case .object(let attributes)? = reading.attributes { payload.merge(attributes) { current, _ in current } }
        send(OutboundMessage(topic: context.entityTopic(device, reading.entityID), payload: JSONValue.object(payload).jsonBytes))
    }

    func send(_ message: OutboundMessage) {
        do {
            try broker.enqueue(message)
        } catch {
            logger.debug("Could not publish state", metadata: ["mqtt.topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    /// Removes children whose list was read again without them for longer than the grace period.
    func sweepChildren(at instant: Instant) async {
        let gone = children.values.filter { record in
            guard let listed = kindListedAt[record.child.kind], listed > record.lastSeen else { return false }
            return instant - record.lastSeen >= settings.childGracePeriod
        }
        guard !gone.isEmpty else { return }
        var removedDevices: Set<String> = []
        for record in gone {
            let device = deviceID(child: record.child.id)
            children.removeValue(forKey: record.child.id)
            values.removeValue(forKey: device)
            // Its state topic is cleared below: if it comes back, its values must go out again
            // (and a value held by a debounce must not resurrect the removed device).
            for entityID in Set(mapping.entities.map(\.id) + mapping.commands.map(\.id)) {
                changeFilter.forget(key: "\(device)/\(entityID)")
                lastAttributes.removeValue(forKey: "\(device)/\(entityID)")
            }
            removedDevices.insert(device)
            await availability.remove(device)
            send(OutboundMessage(topic: context.deviceTopic(device), payload: [], qos: 1, retain: true))
            logger.notice("Child device removed", metadata: ["device.id": "\(device)", "kind": "\(record.child.kind)"])
        }
        await discovery.remove(devices: removedDevices)
    }
}

/// Devices whose state changed, in the order they first changed (the order their messages go
/// out: deterministic for a given document, without sorting a thousand ids per document).
struct DirtyDevices {
    private(set) var order: [String] = []
    private var members: Set<String> = []

    mutating func insert(_ device: String) {
        if members.insert(device).inserted { order.append(device) }
    }
}
