/// One device a source publishes (its main device or a child): its state topic and what the
/// bridge knows of each of its entities.
///
/// A class owned by one ``SourcePublisher`` actor and never shared outside it.
final class DeviceState {
    /// What the bridge knows of one entity of this device.
    final class Entity {
        let id: String
        /// `"<id>":`, the entity's key in the device's JSON state.
        let key: [UInt8]
        /// What publishing a reading looks at; `nil` for a command's state.
        let traits: EntityTraits?
        /// The value last stored for publishing, as it appears in the device's JSON state;
        /// `nil` until the entity's first value went out.
        var value: JSONValue?
        /// The change filter's record of what went out and what is held.
        var filter = ChangeFilter<ReadingValue>.Entry()

        init(id: String, traits: EntityTraits?) {
            self.id = id
            self.key = traits?.key ?? Self.key(of: id)
            self.traits = traits
        }

        /// `"<id>":`.
        static func key(of id: String) -> [UInt8] { JSONValue.string(id).jsonBytes + [UInt8(ascii: ":")] }
    }

    /// The device id (`<source>` or `<source>_<child>`).
    let id: String
    /// `<base>/<device>`.
    let topic: String
    /// The entities that had a reading, sorted by id (the order of the keys in the JSON state);
    /// found by binary search, cheaper than hashing the id for the few entities of a device.
    private(set) var entities: [Entity] = []
    /// Whether the document being taken has already listed this device for publishing.
    var isListed = false

    init(id: String, topic: String) {
        self.id = id
        self.topic = topic
    }

    /// The entity `id`, created with `traits` on its first reading.
    func entity(_ id: String, traits: @autoclosure () -> EntityTraits?) -> Entity {
        // The first position whose id is not below `id`.
        var low = 0
        var high = entities.count
        while low < high {
            let middle = (low + high) / 2
            if entities[middle].id < id { low = middle + 1 } else { high = middle }
        }
        if low < entities.count, entities[low].id == id { return entities[low] }
        let entity = Entity(id: id, traits: traits())
        entities.insert(entity, at: low)
        return entity
    }

    /// Whether any entity of this device has a value.
    var hasValues: Bool { entities.contains { $0.value != nil } }

    /// The current values by entity id.
    var values: [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: entities.compactMap { entity in entity.value.map { (entity.id, $0) } })
    }

    /// The device's JSON state: every entity with a value, keys sorted (what
    /// `JSONValue.object(values).jsonBytes` gives).
    var payload: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        output.append(UInt8(ascii: "{"))
        for entity in entities {
            guard let value = entity.value else { continue }
            if output.count > 1 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: entity.key)
            value.write(into: &output)
        }
        output.append(UInt8(ascii: "}"))
        return output
    }
}
