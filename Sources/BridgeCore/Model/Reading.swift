/// One normalised value of one entity, produced by ``MappingEngine`` from an API document.
public struct Reading: Sendable, Hashable {
    /// The entity's id from the mapping file (`power_import`); the `<entity>` topic level.
    public var entityID: String
    /// The child device this reading belongs to (a connector, a cell, a network client), as
    /// a topic-safe id (see ``TopicSafe``); `nil` for the source's main device.
    public var childID: String?
    /// The value, in the mapping's unit.
    public var value: ReadingValue
    /// The entity's attributes (`json_attributes`), an object; `nil` when it has none.
    public var attributes: JSONValue?
    /// The entity's number in its mapping's ``ReadPlan/stateIDs``, set by the engine; not part of
    /// the reading's identity.
    var slot: Int?

    /// Creates a reading.
    public init(entityID: String, childID: String? = nil, value: ReadingValue, attributes: JSONValue? = nil) {
        self.entityID = entityID
        self.childID = childID
        self.value = value
        self.attributes = attributes
    }

    /// Readings are equal when entity, child, value and attributes are: the slot is bookkeeping.
    public static func == (lhs: Reading, rhs: Reading) -> Bool {
        lhs.entityID == rhs.entityID && lhs.childID == rhs.childID && lhs.value == rhs.value && lhs.attributes == rhs.attributes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entityID)
        hasher.combine(childID)
        hasher.combine(value)
        hasher.combine(attributes)
    }
}
