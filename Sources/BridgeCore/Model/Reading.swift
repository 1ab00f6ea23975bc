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

    /// Creates a reading.
    public init(entityID: String, childID: String? = nil, value: ReadingValue, attributes: JSONValue? = nil) {
        self.entityID = entityID
        self.childID = childID
        self.value = value
        self.attributes = attributes
    }
}
