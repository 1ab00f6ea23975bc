import Logging

extension SourceBridge {
    /// Applies readings: counter guard for `total_increasing`, change filter (with per-entity
    /// debounce and the republish interval), then one state publish per changed device.
    func apply(_ readings: [Reading], at instant: Instant, sourceSaysReset: Bool) {
        round &+= 1
        var changed: [DeviceState] = []
        // The engine gives a child's readings one after another: look its state up once.
        var last: (child: String?, state: DeviceState)?
        for reading in readings {
            guard let slot = layout.slot(of: reading) else {
                // The engine reads only the mapping's entities and commands.
                logger.debug("Reading of an entity the mapping does not have", metadata: ["entity.id": "\(reading.entityID)"])
                continue
            }
            let state: DeviceState
            if let last, last.child == reading.childID {
                state = last.state
            } else {
                state = self.state(child: reading.childID)
                last = (reading.childID, state)
            }
            let entity = layout.traits[slot]
            if entity?.component == .event {
                publishEvent(reading, device: state.id)
                continue
            }
            if entity?.stateClass == .totalIncreasing, let number = reading.value.numberValue {
                let key = state.id + "/" + reading.entityID
                let verdict = counterGuard.check(key: key, value: number, now: instant, sourceSaysReset: sourceSaysReset)
                switch verdict {
                case .withheld(let reason, let firstTime):
                    if firstTime {
                        logger.warning(
                            "Energy counter went backwards; withheld as a glitch",
                            metadata: [
                                "entity.id": "\(reading.entityID)", "device.id": "\(state.id)", "value": "\(number)",
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
            if let attributes = reading.attributes { publishAttributes(attributes, device: state.id, entity: reading.entityID) }
            switch changeFilter.offer(reading.value, to: &state.slots[slot].filter, debounce: entity?.debounce, now: instant) {
            case .publish(let value):
                store(value, in: state, slot: slot)
                if state.changedInRound != round {
                    state.changedInRound = round
                    changed.append(state)
                }
            case .hold:
                holding[ObjectIdentifier(state)] = state
            case .suppress:
                break
            }
        }
        publishDevices(changed)
    }

    /// The state of the main device (`child == nil`) or of a child, created on first use.
    func state(child: String?) -> DeviceState {
        guard let child else {
            if let mainState { return mainState }
            let state = DeviceState(id: deviceID, topic: context.deviceTopic(deviceID), layout: layout)
            mainState = state
            return state
        }
        if let state = childStates[child] { return state }
        let device = deviceID(child: child)
        let state = DeviceState(id: device, topic: context.deviceTopic(device), layout: layout)
        childStates[child] = state
        return state
    }

    /// Records a value to publish; with per-entity output it goes out at once.
    func store(_ value: ReadingValue, in state: DeviceState, slot: Int) {
        state.slots[slot].value = value.jsonValue
        if settings.output.publishesAttributes {
            send(
                OutboundMessage(
                    topic: context.entityTopic(state.id, layout.ids[slot]), string: value.rendered, qos: 0, retain: settings.retain))
        }
    }

    /// Publishes the values held by a debounce whose window has ended.
    func releaseHeld(at instant: Instant) {
        guard !holding.isEmpty else { return }
        var released: [(until: Instant, state: DeviceState, slot: Int)] = []
        for (key, state) in holding {
            var holds = false
            for slot in state.slots.indices {
                guard let until = state.slots[slot].filter.heldUntil else { continue }
                if until <= instant { released.append((until, state, slot)) } else { holds = true }
            }
            if !holds { holding[key] = nil }
        }
        // By deadline, then `<device>/<entity>`: the order `ChangeFilter.due` gives its keys.
        released.sort { lhs, rhs in
            (lhs.until, lhs.state.id + "/" + layout.ids[lhs.slot]) < (rhs.until, rhs.state.id + "/" + layout.ids[rhs.slot])
        }
        round &+= 1
        var changed: [DeviceState] = []
        for (_, state, slot) in released {
            guard let value = ChangeFilter<ReadingValue>.release(&state.slots[slot].filter, now: instant) else { continue }
            store(value, in: state, slot: slot)
            if state.changedInRound != round {
                state.changedInRound = round
                changed.append(state)
            }
        }
        publishDevices(changed)
    }

    /// Publishes the JSON object of every device in `states`.
    func publishDevices(_ states: [DeviceState]) {
        guard settings.output.publishesJSON else { return }
        for state in states {
            // One buffer for every payload: the client copies it into its packet, and a message
            // it keeps (queued offline) keeps its own copy, since the next render then finds the
            // buffer shared and allocates a new one.
            renderBuffer.removeAll(keepingCapacity: true)
            layout.render(state, into: &renderBuffer)
            send(OutboundMessage(topic: state.topic, payload: renderBuffer, qos: 0, retain: settings.retain))
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
            // Its state topic is cleared below: if it comes back, its values must go out again
            // (and a value held by a debounce must not resurrect the removed device).
            if let state = childStates.removeValue(forKey: record.child.id) { holding[ObjectIdentifier(state)] = nil }
            for entityID in layout.ids {
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
