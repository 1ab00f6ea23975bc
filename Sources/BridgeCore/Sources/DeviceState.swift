/// One device a source publishes (its main device or a child): its state topic and, per
/// entity of the mapping, the current value and the change filter's entry.
///
/// A class owned by one ``SourceBridge`` actor and never shared outside it: a reading finds its
/// device once and updates its slot in place, so no `device/entity` key is built or hashed per
/// value, and the device's JSON state is rendered from the slots in a fixed key order.
final class DeviceState {
    /// What the bridge knows of one entity of this device.
    struct Slot {
        /// The value last stored for publishing, as it appears in the device's JSON state;
        /// `nil` until the entity's first value went out.
        var value: JSONValue?
        /// The change filter's record of what went out and what is held.
        var filter = ChangeFilter<ReadingValue>.Entry()
    }

    /// The device id (`<source>` or `<source>_<child>`).
    let id: String
    /// `<base>/<device>`.
    let topic: String
    /// One slot per entity of the layout, by slot number.
    ///
    /// Updated for every reading: `@exclusivity(unchecked)` spares the runtime's dynamic
    /// exclusivity check (a thread-local lookup) on each access. Safe because only the owning
    /// actor touches it, and never while a mutation of it is in progress.
    @exclusivity(unchecked) var slots: [Slot]
    /// The apply round in which this device last changed, so a round lists it once.
    @exclusivity(unchecked) var changedInRound = 0

    init(id: String, topic: String, layout: StateLayout) {
        self.id = id
        self.topic = topic
        self.slots = Array(repeating: Slot(), count: layout.ids.count)
    }

    /// Whether any entity of this device has a value.
    var hasValues: Bool { slots.contains { $0.value != nil } }
}

/// The entities a mapping publishes state for (its entities and its commands' `state:`),
/// numbered as slots, with what publishing needs of each.
struct StateLayout {
    /// Entity ids by slot.
    let ids: [String]
    /// Slot of each entity id.
    let slotOf: [String: Int]
    /// What publishing a reading looks at, by slot; `nil` for a command's state.
    let traits: [EntityTraits?]
    /// `"<id>":` as UTF-8 for every slot, one after another (`renderedKeys` has where each
    /// is): the keys of the entities in the device's JSON state, in one buffer so that a render
    /// copies bytes without retaining one array per key.
    private let keyBytes: [UInt8]
    /// Where each slot's key is in `keyBytes`.
    private let renderedKeys: [Range<Int>]
    /// Slots in the order of their ids: the JSON state's keys are sorted, as everywhere else.
    private let renderOrder: [Int]

    /// The layout of the mapping's ``ReadPlan/stateIDs``: the slot numbers readings carry.
    init(mapping: MappingFile) {
        let ids = mapping.plan.stateIDs
        self.ids = ids
        self.slotOf = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        self.traits = ids.map { id in
            mapping.entity(id).map { EntityTraits(component: $0.component, stateClass: $0.stateClass, debounce: $0.debounce) }
        }
        var keyBytes: [UInt8] = []
        self.renderedKeys = ids.map { id in
            let start = keyBytes.count
            keyBytes.append(contentsOf: JSONValue.string(id).jsonBytes)
            keyBytes.append(UInt8(ascii: ":"))
            return start..<keyBytes.count
        }
        self.keyBytes = keyBytes
        self.renderOrder = ids.indices.sorted { ids[$0] < ids[$1] }
    }

    /// The slot of an entity: the number its mapping gave it when it is this layout's
    /// (checked: the same id at that number), else looked up by id.
    func slot(of entity: EntityRead) -> Int? {
        if let slot = entity.slot, ids.indices.contains(slot), ids[slot] == entity.entity.id { return slot }
        return slotOf[entity.entity.id]
    }

    /// The device's JSON state: every entity with a value, keys sorted (what
    /// `JSONValue.object(values(of:)).jsonBytes` gives, without building the object).
    /// Appended to `output`.
    func render(_ state: DeviceState, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        var first = true
        keyBytes.withUnsafeBufferPointer { keys in
            for slot in renderOrder {
                guard let value = state.slots[slot].value else { continue }
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                output.append(contentsOf: UnsafeBufferPointer(rebasing: keys[renderedKeys[slot]]))
                value.write(into: &output)
            }
        }
        output.append(UInt8(ascii: "}"))
    }

    /// The device's current values by entity id.
    func values(of state: DeviceState) -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        for (slot, entry) in state.slots.enumerated() {
            if let value = entry.value { values[ids[slot]] = value }
        }
        return values
    }
}

/// One child list's devices by position, as the previous document named them: a list that
/// names the same children in the same order again finds each child's record (and through it
/// its state) without hashing its id. Owned by one ``SourceBridge``; cleared when a child is
/// removed.
final class ListPositions {
    /// Unchecked exclusivity as for ``DeviceState/slots``, for the same reasons.
    @exclusivity(unchecked) private var records: [SourceBridge.ChildRecord?] = []

    /// The record of child `id` at `position`: the one remembered there, or `lookUp()`'s
    /// (remembered from now on).
    func record(at position: Int, id: String, lookUp: () -> SourceBridge.ChildRecord) -> SourceBridge.ChildRecord {
        if position < records.count, let record = records[position], record.child.id == id { return record }
        let record = lookUp()
        while records.count <= position { records.append(nil) }
        records[position] = record
        return record
    }
}
