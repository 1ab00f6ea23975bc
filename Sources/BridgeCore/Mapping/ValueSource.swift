/// Where an entity's value comes from: an endpoint's document, a path into it, and the
/// transforms that belong to this shape of the document.
///
/// An entity lists alternatives when firmware versions shape the same value differently;
/// the first one present wins, and each brings its own scale:
///
/// ```yaml
/// from:
///   - { endpoint: status, path: battery.voltage_mv, scale: 0.001 }
///   - { endpoint: status, path: battery.pack_voltage_v }
/// ```
public struct ValueSource: Sendable, Hashable {
    /// The endpoint name the adapter delivers documents under (`meter`, `status`).
    public var endpoint: String
    /// Where the value is in that document.
    public var path: ValuePath
    /// Transforms for this alternative, applied before the entity's own.
    public var transforms: [ValueTransform]
    /// Where the source is written.
    public var position: MappingPosition
    /// Where its `path` is written.
    public var pathPosition: MappingPosition

    /// Creates a source.
    public init(
        endpoint: String,
        path: ValuePath,
        transforms: [ValueTransform] = [],
        position: MappingPosition = .unknown(),
        pathPosition: MappingPosition? = nil
    ) {
        self.endpoint = endpoint
        self.path = path
        self.transforms = transforms
        self.position = position
        self.pathPosition = pathPosition ?? position
    }
}
