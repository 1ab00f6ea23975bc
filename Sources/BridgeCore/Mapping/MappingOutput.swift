/// What ``MappingEngine`` reads from one document of one endpoint.
public struct MappingOutput: Sendable, Hashable {
    /// The readings, main device first, then children in list order.
    public var readings: [Reading]
    /// Every child device seen in this document, each once, in the order first seen.
    public var children: [ChildDevice]
    /// The topic-safe child ids seen, by child kind (`connector`, `cell`). A kind is present
    /// only when its list was in the document, so a kind with an empty set means "all gone",
    /// and a missing kind means "not in this document": remove vanished children only for the
    /// kinds present.
    public var childIDs: [String: Set<String>]
    /// The main device's fields: the mapping's literal ones, and those read from this document.
    public var device: [DeviceTemplate.Field: String]
    /// Values that did not fit their mapping (a string where a number is expected); the
    /// entity gets no reading this time.
    public var issues: [MappingIssue]

    /// Creates an output.
    public init(
        readings: [Reading] = [],
        children: [ChildDevice] = [],
        childIDs: [String: Set<String>] = [:],
        device: [DeviceTemplate.Field: String] = [:],
        issues: [MappingIssue] = []
    ) {
        self.readings = readings
        self.children = children
        self.childIDs = childIDs
        self.device = device
        self.issues = issues
    }

    /// The reading of an entity on the main device (`childID == nil`) or a child.
    public func reading(_ entityID: String, child childID: String? = nil) -> Reading? {
        readings.first { $0.entityID == entityID && $0.childID == childID }
    }
}

/// A child device found by a ``ChildExpansion``.
public struct ChildDevice: Sendable, Hashable {
    /// The topic-safe id: the device id is `<source id>_<id>`.
    public var id: String
    /// The id as the API knows it, for `$child` in calls: the one field's value (`CP001`, `1`),
    /// or, for an id of several parts, an object of them by name
    /// (`{"charge_point_id": "CP_01", "connector_id": 1}`), never a joined string.
    public var key: JSONValue
    /// The display name: the item's `name` field, or "<Kind> <id>".
    public var name: String
    /// The expansion's kind.
    public var kind: String
    /// Device fields read from the item.
    public var device: [DeviceTemplate.Field: String]
    /// The topic-safe id of the child it is nested under (`parent:`), if any.
    public var parentID: String?

    /// Creates a child.
    public init(
        id: String, key: JSONValue, name: String, kind: String, device: [DeviceTemplate.Field: String] = [:],
        parentID: String? = nil
    ) {
        self.id = id
        self.key = key
        self.name = name
        self.kind = kind
        self.device = device
        self.parentID = parentID
    }
}

/// A value that did not fit its mapping; logged by the source (once per transition), never fatal.
public struct MappingIssue: Sendable, Hashable, CustomStringConvertible {
    /// The entity (or command state) concerned.
    public var entityID: String
    /// The child concerned, if any.
    public var childID: String?
    /// The endpoint whose document was read.
    public var endpoint: String
    /// The path that was read, as written.
    public var path: String
    /// What is wrong.
    public var message: String

    /// Creates an issue.
    public init(entityID: String, childID: String? = nil, endpoint: String, path: String, message: String) {
        self.entityID = entityID
        self.childID = childID
        self.endpoint = endpoint
        self.path = path
        self.message = message
    }

    /// `power_import (child 2) at meter:pi[0]: scale: expected a number, got a string ('abc')`.
    public var description: String {
        let child = childID.map { " (child \($0))" } ?? ""
        return "\(entityID)\(child) at \(endpoint):\(path): \(message)"
    }
}
