/// One device a source publishes (its main device or a child): its state topic and, per
/// entity, the current value and the change filter's entry.
///
/// A class owned by one ``SourcePublisher`` actor and never shared outside it.
final class DeviceState {
    /// The device id (`<source>` or `<source>_<child>`).
    let id: String
    /// `<base>/<device>`.
    let topic: String
    /// The values last stored for publishing, by entity id, as they appear in the device's
    /// JSON state; an entity is absent until its first value went out.
    var values: [String: JSONValue] = [:]
    /// The change filter's record of what went out and what is held, by entity id.
    var filters: [String: ChangeFilter<ReadingValue>.Entry] = [:]

    init(id: String, topic: String) {
        self.id = id
        self.topic = topic
    }

    /// Whether any entity of this device has a value.
    var hasValues: Bool { !values.isEmpty }

    /// The device's JSON state: every entity with a value, keys sorted.
    var payload: [UInt8] { JSONValue.object(values).jsonBytes }
}
