import Logging

extension SourceBridge {
    /// What one document changes, gathered while the engine reads it and acted on after.
    struct Batch {
        /// Devices whose JSON state is to be published, each once.
        var changed: [DeviceState] = []
        /// Messages to send once discovery is out (per-entity states, attributes, events).
        var messages: [OutboundMessage] = []
        /// Children seen for the first time, by id.
        var newChildren: [String] = []
        var discoveryChanged = false
        var issues: [MappingIssue] = []
    }

    /// Takes one value of `entity` for the device `state`: counter guard for
    /// `total_increasing`, change filter (with per-entity debounce and the republish interval);
    /// a value to publish is stored in its slot and the device listed as changed.
    /// `stamp` is `instant` as the change filter's stamp (worked out once per document).
    func take(
        _ value: ReadingValue, attributes: JSONValue?, of entity: EntityRead, in state: DeviceState, at instant: Instant,
        stamp: Duration, sourceSaysReset: Bool, into batch: inout Batch
    ) {
        let entityID = entity.entity.id
        guard let slot = layout.slot(of: entity) else {
            // The engine reads only the mapping's entities and commands.
            logger.debug("Reading of an entity the mapping does not have", metadata: ["entity.id": "\(entityID)"])
            return
        }
        let traits = layout.traits[slot]
        if traits?.component == .event {
            publishEvent(value, attributes: attributes, device: state.id, entity: entityID, into: &batch.messages)
            return
        }
        if traits?.stateClass == .totalIncreasing, let number = value.numberValue {
            let key = state.id + "/" + entityID
            let verdict = counterGuard.check(key: key, value: number, now: instant, sourceSaysReset: sourceSaysReset)
            switch verdict {
            case .withheld(let reason, let firstTime):
                if firstTime {
                    logger.warning(
                        "Energy counter went backwards; withheld as a glitch",
                        metadata: [
                            "entity.id": "\(entityID)", "device.id": "\(state.id)", "value": "\(number)",
                            "last": "\(counterGuard.lastAccepted(key: key) ?? 0)", "reason": "\(reason)",
                        ])
                }
                return
            case .acceptedReset(let previous):
                logger.notice(
                    "Energy counter reset accepted",
                    metadata: ["entity.id": "\(entityID)", "previous": "\(previous)", "value": "\(number)"])
            case .accepted:
                break
            }
        }
        if let attributes { publishAttributes(attributes, device: state.id, entity: entityID, into: &batch.messages) }
        switch changeFilter.offer(value, to: &state.slots[slot].filter, debounce: traits?.debounce, stamp: stamp) {
        case .publish(let value):
            store(value, in: state, slot: slot, into: &batch.messages)
            if state.changedInRound != round {
                state.changedInRound = round
                batch.changed.append(state)
            }
        case .hold:
            holding[ObjectIdentifier(state)] = state
        case .suppress:
            break
        }
    }

    /// The main device's state, created on first use.
    func mainDeviceState() -> DeviceState {
        if let mainState { return mainState }
        let state = DeviceState(id: deviceID, topic: context.deviceTopic(deviceID), layout: layout)
        mainState = state
        return state
    }

    /// A child's state, created on its first reading and kept in its record.
    func state(of record: ChildRecord) -> DeviceState {
        if let state = record.state { return state }
        let device = deviceID(child: record.child.id)
        let state = DeviceState(id: device, topic: context.deviceTopic(device), layout: layout)
        record.state = state
        return state
    }

    /// Records a value to publish; with per-entity output its message is added to `messages`.
    func store(_ value: ReadingValue, in state: DeviceState, slot: Int, into messages: inout [OutboundMessage]) {
        state.slots[slot].value = value.jsonValue
        if settings.output.publishesAttributes {
            messages.append(
                OutboundMessage(
                    topic: context.entityTopic(state.id, layout.ids[slot]), string: value.rendered, qos: 0, retain: settings.retain))
        }
    }

    /// Publishes the values held by a debounce whose window has ended.
    func releaseHeld(at instant: Instant) {
        guard !holding.isEmpty else { return }
        let now = ChangeFilter<ReadingValue>.stamp(instant)
        var released: [(until: Duration, state: DeviceState, slot: Int)] = []
        for (key, state) in holding {
            var holds = false
            for slot in state.slots.indices {
                guard let until = state.slots[slot].filter.heldDeadline else { continue }
                if until <= now { released.append((until, state, slot)) } else { holds = true }
            }
            if !holds { holding[key] = nil }
        }
        // By deadline, then `<device>/<entity>`: the order `ChangeFilter.due` gives its keys.
        released.sort { lhs, rhs in
            (lhs.until, lhs.state.id + "/" + layout.ids[lhs.slot]) < (rhs.until, rhs.state.id + "/" + layout.ids[rhs.slot])
        }
        round &+= 1
        var changed: [DeviceState] = []
        var messages: [OutboundMessage] = []
        for (_, state, slot) in released {
            guard let value = ChangeFilter<ReadingValue>.release(&state.slots[slot].filter, stamp: now) else { continue }
            store(value, in: state, slot: slot, into: &messages)
            if state.changedInRound != round {
                state.changedInRound = round
                changed.append(state)
            }
        }
        publishDevices(changed, after: messages)
    }

    /// Renders the JSON object of every device in `states`, then sends `messages` and them:
    /// one burst, with nothing done between two sends. Rendering between sends lets the
    /// client's network thread catch up, sleep and be woken again for the next message; in the
    /// core benchmark that cost the process 7–11% more CPU per message.
    func publishDevices(_ states: [DeviceState], after messages: [OutboundMessage] = []) {
        // The previous burst's messages, rendered into again: their payload buffers are reused
        // (the client copies a payload when it is handed one; a buffer it still holds, in its
        // offline queue, is shared, and rendering into it then makes a new one).
        var outbox = self.outbox
        self.outbox = []
        let count = settings.output.publishesJSON ? states.count : 0
        for position in 0..<count {
            let state = states[position]
            if position < outbox.count {
                outbox[position].topic = state.topic
                outbox[position].payload.removeAll(keepingCapacity: true)
                layout.render(state, into: &outbox[position].payload)
            } else {
                var payload: [UInt8] = []
                layout.render(state, into: &payload)
                outbox.append(OutboundMessage(topic: state.topic, payload: payload, qos: 0, retain: settings.retain))
            }
        }
        for index in messages.indices { send(messages[index]) }
        for index in 0..<count { send(outbox[index]) }
        self.outbox = outbox
    }

    private func publishAttributes(
        _ attributes: JSONValue, device: String, entity: String, into messages: inout [OutboundMessage]
    ) {
        let key = "\(device)/\(entity)"
        guard lastAttributes[key] != attributes else { return }
        lastAttributes[key] = attributes
        messages.append(
            OutboundMessage(
                topic: context.attributesTopic(device, entity), payload: attributes.jsonBytes, qos: 0, retain: settings.retain))
    }

    /// Events are momentary: published unretained, never part of the device's JSON state.
    private func publishEvent(
        _ value: ReadingValue, attributes: JSONValue?, device: String, entity: String, into messages: inout [OutboundMessage]
    ) {
        guard case .string(let type) = value else { return }
        var payload: [String: JSONValue] = ["event_type": .string(type)]
        if case .object(let attributes)? = attributes { payload.merge(attributes) { current, _ in current } }
        messages.append(OutboundMessage(topic: context.entityTopic(device, entity), payload: JSONValue.object(payload).jsonBytes))
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
        let now = ChangeFilter<ReadingValue>.stamp(instant)
        let gone = children.values.filter { record in
            guard let listed = kindListedAt[record.child.kind], listed > record.lastSeen else { return false }
            return now - record.lastSeen >= settings.childGracePeriod
        }
        guard !gone.isEmpty else { return }
        // The lists' remembered positions may name a removed child or its state.
        listPositions.removeAll()
        var removedDevices: Set<String> = []
        for record in gone {
            let device = deviceID(child: record.child.id)
            children.removeValue(forKey: record.child.id)
            // Its state topic is cleared below: if it comes back, its values must go out again
            // (and a value held by a debounce must not resurrect the removed device).
            if let state = record.state { holding[ObjectIdentifier(state)] = nil }
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
