/// How the device block of a source's discovery payloads is filled: literal text, or values
/// read from a document.
///
/// ```yaml
/// device:
///   manufacturer: Cozify
///   model: { from: { endpoint: meter_id, path: model } }
///   sw_version: { from: { endpoint: status, path: firmware } }
/// ```
public struct DeviceTemplate: Sendable, Hashable {
    /// A field of the Home Assistant device block.
    public enum Field: String, Sendable, Hashable, CaseIterable, Comparable {
        /// The device's display name (the source's `name` setting wins when given).
        case name
        /// Who made it.
        case manufacturer
        /// What it is.
        case model
        /// The model's identifier.
        case modelID = "model_id"
        /// Firmware version.
        case swVersion = "sw_version"
        /// Hardware revision.
        case hwVersion = "hw_version"
        /// Serial number.
        case serialNumber = "serial_number"

        /// File order of the keys, for stable output.
        public static func < (lhs: Field, rhs: Field) -> Bool {
            (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
        }
    }

    /// Where a field's value comes from.
    public enum Value: Sendable, Hashable {
        /// Fixed text.
        case literal(String)
        /// A value read from a document (for children: from the list item).
        case source(ValueSource)
    }

    /// The fields the mapping sets.
    public var fields: [Field: Value]
    /// Where each field is written.
    public var positions: [Field: MappingPosition]

    /// Creates a template.
    public init(fields: [Field: Value] = [:], positions: [Field: MappingPosition] = [:]) {
        self.fields = fields
        self.positions = positions
    }

    /// The template with `overlay`'s fields replacing these.
    public func merged(with overlay: DeviceTemplate) -> DeviceTemplate {
        DeviceTemplate(
            fields: fields.merging(overlay.fields) { _, new in new },
            positions: positions.merging(overlay.positions) { _, new in new }
        )
    }

    /// The fields written as text in the mapping.
    public var literals: [Field: String] {
        fields.compactMapValues { value in
            if case .literal(let text) = value { return text }
            return nil
        }
    }

    /// The literal value of a field, when it is literal.
    public func literal(_ field: Field) -> String? {
        if case .literal(let text) = fields[field] { return text }
        return nil
    }
}
