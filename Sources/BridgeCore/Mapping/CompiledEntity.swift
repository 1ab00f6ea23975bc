/// One entity as the engine reads it from one endpoint, compiled once per mapping: the
/// sources on that endpoint, the transforms, and how the value is shaped.
///
/// A class: the plan's steps share one compiled instance per entity and endpoint.
final class CompiledEntity: Sendable, Hashable {
    /// How a transformed value becomes a ``ReadingValue`` (decided once per entity
    /// and endpoint; ``MappingEngine/normalise(_:shape:)`` applies it).
    enum Shape: Sendable {
        /// A number rounded to the precision.
        case numeric(precision: Int?)
        /// `ON` / `OFF`.
        case boolean
        /// `home` / `not_home`, or the text.
        case tracker
        /// One of the options.
        case option(Set<String>, list: [String])
        /// Whatever the value is.
        case plain(precision: Int?)
    }

    let entity: EntityMapping
    let endpoint: String
    /// The entity's sources on this endpoint, in the order written (the first with a value wins).
    let sources: [ValueSource]
    let transforms: [ValueTransform]
    let shape: Shape
    /// The attributes' path when they come from this endpoint.
    let attributes: ValuePath?

    init(entity: EntityMapping, endpoint: String) {
        self.entity = entity
        self.endpoint = endpoint
        self.sources = entity.sources.filter { $0.endpoint == endpoint }
        self.transforms = entity.transforms
        self.attributes = entity.attributesFrom.flatMap { $0.endpoint == endpoint ? $0.path : nil }
        if entity.isNumeric {
            shape = .numeric(precision: entity.precision)
        } else {
            switch entity.component {
            case .binarySensor, .switch:
                shape = .boolean
            case .deviceTracker:
                shape = .tracker
            default:
                if let options = entity.options,
                    entity.component == .select || entity.component == .event || entity.deviceClass == "enum"
                {
                    shape = .option(Set(options), list: options)
                } else {
                    shape = .plain(precision: entity.precision)
                }
            }
        }
    }

    static func == (lhs: CompiledEntity, rhs: CompiledEntity) -> Bool {
        lhs === rhs || (lhs.entity == rhs.entity && lhs.endpoint == rhs.endpoint)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(entity.id)
        hasher.combine(endpoint)
    }
}
