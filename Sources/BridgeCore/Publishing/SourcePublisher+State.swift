import Logging

extension SourcePublisher {
    /// What one document changes, gathered while its readings are taken and acted on after.
    struct Batch {
        /// Devices whose JSON state is to be published, each once, in the order they changed.
        var changed: [DeviceState] = []
        /// Messages to send once discovery is out (per-entity states, attributes, events).
        var messages: [OutboundMessage] = []
        /// Children seen for the first time, by id.
        var newChildren: [String] = []
        /// Children seen for the first time or described differently: their discovery is due.
        var discoveryChildren: [String] = []
        /// The main device's fields changed: its discovery is due.
        var mainDiscoveryChanged = false

        /// Lists `state` as changed, once (`publishDevices` clears its mark).
        mutating func changed(_ state: DeviceState) {
            guard !state.isListed else { return }
            state.isListed = true
            changed.append(state)
        }
    }

    /// Takes one reading (`value` and `attributes` of `entityID`; passed as its parts, which the
    /// caller reads from the mapping output without copying the whole reading) for the device
    /// `state`: counter guard for `total_increasing`, change filter (with per-entity debounce and
    /// the republish interval); a value to publish is stored in the device's values and the
    /// device listed as changed.
    func take(
        _ value: ReadingValue, of entityID: String, attributes: JSONValue?, in state: DeviceState, at instant: Instant,
        sourceSaysReset: Bool, into batch: inout Batch
    ) {
        let entity = state.entity(entityID, traits: traits[entityID])
        if entity.traits?.component == .event {
            publishEvent(value, attributes: attributes, device: state.id, entity: entityID, into: &batch.messages)
            return
        }
        if entity.traits?.stateClass == .totalIncreasing, let number = value.numberValue {
            let key = state.id + "/" + entityID
            let verdict = counterGuard.check(key: key, value: number, now: instant, sourceSaysReset: sourceSaysReset)
            switch verdict {
            case .withheld(let reason, let firstTime):
                guard firstTime else { return }
                if let last = counterGuard.lastAccepted(key: key) {
                    logger.warning(
                        "Counter went backwards; withheld as a glitch",
                        metadata: [
                            "entity.id": "\(entityID)", "device.id": "\(state.id)", "value": "\(number)", "last": "\(last)",
                            "reason": "\(reason)",
                        ])
                } else {
                    // A fresh counter (a new pack, the first day of a month) starts at 0 too:
                    // nothing went backwards, the value waits until it moves or the zero persists.
                    logger.notice(
                        "Counter reads \(number) before any other value; withheld until it moves or persists",
                        metadata: ["entity.id": "\(entityID)", "device.id": "\(state.id)", "reason": "\(reason)"])
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
        if let attributes {
            publishAttributes(attributes, device: state.id, entity: entityID, into: &batch.messages)
        }
        switch changeFilter.offer(value, to: &entity.filter, debounce: entity.traits?.debounce, now: instant) {
        case .publish(let value):
            store(value, of: entity, in: state, into: &batch.messages)
            batch.changed(state)
        case .hold:
            holding[ObjectIdentifier(state)] = state
            pendingHandler?(entity.filter.heldUntil)
        case .suppress:
            break
        }
    }

    /// The main device's state, created on first use.
    func mainDeviceState() -> DeviceState {
        if let mainState { return mainState }
        let state = DeviceState(id: deviceID, topic: context.deviceTopic(deviceID))
        mainState = state
        return state
    }

    /// A child's state, created on its first reading and kept in its record.
    func state(of record: ChildRecord) -> DeviceState {
        if let state = record.state { return state }
        let device = deviceID(child: record.id)
        let state = DeviceState(id: device, topic: context.deviceTopic(device))
        record.state = state
        return state
    }

    /// Records a value to publish; with per-entity output its message is added to `messages`.
    func store(_ value: ReadingValue, of entity: DeviceState.Entity, in state: DeviceState, into messages: inout [OutboundMessage]) {
        entity.value = value.jsonValue
        // Text entities always have a plain topic of their own (see `DiscoveryContext`).
        if settings.output.publishesAttributes || entity.traits?.component == .text {
            messages.append(
                OutboundMessage(topic: context.entityTopic(state.id, entity.id), string: value.rendered, qos: 0, retain: settings.retain))
        }
    }

    /// Publishes the values held by a debounce whose window has ended.
    func releaseHeld(at now: Instant) {
        guard !holding.isEmpty else { return }
        var released: [(until: Instant, state: DeviceState, entity: DeviceState.Entity)] = []
        for (key, state) in holding {
            var holds = false
            for entity in state.entities {
                guard let until = entity.filter.heldUntil else { continue }
                if until <= now { released.append((until, state, entity)) } else { holds = true }
            }
            if !holds { holding[key] = nil }
        }
        // By deadline, then `<device>/<entity>`.
        released.sort { lhs, rhs in
            (lhs.until, lhs.state.id + "/" + lhs.entity.id) < (rhs.until, rhs.state.id + "/" + rhs.entity.id)
        }
        var batch = Batch()
        for (_, state, entity) in released {
            guard let value = ChangeFilter<ReadingValue>.release(&entity.filter, now: now) else { continue }
            store(value, of: entity, in: state, into: &batch.messages)
            batch.changed(state)
        }
        publishDevices(batch.changed, after: batch.messages)
    }

    /// Renders the JSON state of every device in `states`, then sends `messages` and them:
    /// one burst, with nothing done between two sends. Rendering between sends lets the
    /// client's network thread catch up, sleep and be woken again for every message.
    func publishDevices(_ states: [DeviceState], after messages: [OutboundMessage] = []) {
        for state in states { state.isListed = false }
        let payloads = settings.output.publishesJSON ? states.map(\.payload) : []
        for message in messages { send(message) }
        for index in payloads.indices {
            send(OutboundMessage(topic: states[index].topic, payload: payloads[index], qos: 0, retain: settings.retain))
        }
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
    func sweepChildren(at now: Instant) async {
        let gone = children.values.filter { record in
            // Presence decides for its own kinds (clients away stay known until remove_after).
            guard !presenceKinds.contains(record.child.kind) else { return false }
            guard let listed = kindListedAt[record.child.kind], listed > record.lastSeen else { return false }
            return now - record.lastSeen >= settings.childGracePeriod
        }
        await removeChildren(Set(gone.map(\.child.id)))
    }

    /// Removes children and, with them, every child nested under one of them (a charge point's
    /// connectors): availability, state topic and discovery are cleared.
    func removeChildren(_ ids: Set<String>) async {
        var removing = ids.filter { children[$0] != nil }
        guard !removing.isEmpty else { return }
        // Descendants, however deep.
        while true {
            let nested = children.values.filter { record in
                record.child.parentID.map(removing.contains) == true && !removing.contains(record.child.id)
            }
            if nested.isEmpty { break }
            removing.formUnion(nested.map(\.child.id))
        }
        var removedDevices: Set<String> = []
        for id in removing.sorted() {
            guard let record = children.removeValue(forKey: id) else { continue }
            childCount[record.child.kind, default: 1] -= 1
            let device = deviceID(child: id)
            // Its state topic is cleared below: if it comes back, its values must go out again
            // (and a value held by a debounce must not resurrect the removed device).
            if let state = record.state { holding[ObjectIdentifier(state)] = nil }
            lastAttributes = lastAttributes.filter { Self.split($0.key).device != device }
            removedDevices.insert(device)
            await availability.remove(device)
            send(OutboundMessage(topic: context.deviceTopic(device), payload: [], qos: 1, retain: true))
            logger.notice("Child device removed", metadata: ["device.id": "\(device)", "kind": "\(record.child.kind)"])
        }
        await discovery.remove(devices: removedDevices)
    }
}
