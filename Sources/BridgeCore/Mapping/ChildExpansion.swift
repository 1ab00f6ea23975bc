/// Expands one entity into one per item of a list, each on its own child device
/// (connectors, cells, network clients).
///
/// ```yaml
/// child:
///   kind: connector                       # names children "Connector 1" unless `name` is given
///   endpoint: point                       # optional: the entity's endpoint by default
///   list: connectors                      # or [cells[*], battery.cells[*]]: the first present wins
///   id: connector_id                      # or [charge_point_id, connector_id], $index, $key
///   name: connector_id_name               # optional path in the item
///   device: { model: type }               # optional: device fields from the item
///   parent: { kind: charge_point, id: charge_point_id }   # optional: nested under another child
/// ```
///
/// With `parent`, the child's Home Assistant device hangs under that child (`via_device`:
/// connector → charge point → source), and is removed with it.
///
/// Inside an expanded entity, `from` paths start at the item (`@` is the item itself,
/// `$.…` the document root).
public struct ChildExpansion: Sendable, Hashable {
    /// One part of a child's id.
    public enum IDPart: Sendable, Hashable, CustomStringConvertible {
        /// A value in the item.
        case path(ValuePath)
        /// The item's position in the list, from 0 (`$index`).
        case index
        /// The item's key when the list is an object (`$key`).
        case key

        /// The part's name in a structured child key (`charge_point_id`, `index`, `key`).
        public var name: String {
            switch self {
            case .path(let path): path.text
            case .index: "index"
            case .key: "key"
            }
        }

        /// As written in a mapping file.
        public var description: String {
            switch self {
            case .path(let path): path.text
            case .index: "$index"
            case .key: "$key"
            }
        }
    }

    /// What a child is (`connector`, `cell`, `client`): used in default names and to group
    /// the child ids seen, so the bridge can remove children that vanished.
    public var kind: String { didSet { kindName = EntityMapping.defaultName(for: kind) } }
    /// `kind` as the start of a default name (`cell` → `Cell`), computed once.
    public private(set) var kindName: String
    /// The endpoint whose document holds the list.
    public var endpoint: String
    /// Where the list is; alternatives, the first present wins. A path without `[*]` must
    /// address an array (its elements) or an object (its values, by key).
    public var listPaths: [ValuePath]
    /// The parts of a child's id, joined with `_` and made topic-safe.
    public var idParts: [IDPart]
    /// Where a child's display name is in its item; `nil` names it "<Kind> <id>".
    public var namePath: ValuePath?
    /// Device fields (model, sw_version, …) read from the item.
    public var device: DeviceTemplate?
    /// The child this one is nested under: its kind and the parts of its id, read in this
    /// child's item (a connector names its charge point).
    public var parent: Parent?
    /// Where the expansion is written.
    public var position: MappingPosition

    /// Another child a child hangs under.
    public struct Parent: Sendable, Hashable {
        public var kind: String
        public var idParts: [IDPart]

        public init(kind: String, idParts: [IDPart]) {
            self.kind = kind
            self.idParts = idParts
        }
    }

    /// Creates an expansion.
    public init(
        kind: String,
        endpoint: String,
        listPaths: [ValuePath],
        idParts: [IDPart],
        namePath: ValuePath? = nil,
        device: DeviceTemplate? = nil,
        parent: Parent? = nil,
        position: MappingPosition = .unknown()
    ) {
        self.kind = kind
        self.kindName = EntityMapping.defaultName(for: kind)
        self.endpoint = endpoint
        self.listPaths = listPaths
        self.idParts = idParts
        self.namePath = namePath
        self.device = device
        self.parent = parent
        self.position = position
    }

    /// The first list path (the one the documentation shows).
    public var listPath: ValuePath? { listPaths.first }
}

/// How a `device_tracker` over children decides presence:
///
/// ```yaml
/// presence:
///   away_after: 5m          # not_home after this long without a fresh sighting online
///   remove_after: 7d        # the client's device is removed after this long unseen
///   stale: { path: is_stale } # a document where this is true is stale: it changes nothing
/// ```
///
/// A source's own `away_after` / `remove_after` settings, where its type has them, win over
/// these. The tracker's value reads as online when it is `true` or `home`.
public struct PresenceSettings: Sendable, Hashable {
    public var awayAfter: Duration
    public var removeAfter: Duration
    /// Where a document says it is stale (true); read at the document's root.
    public var stale: ValuePath?

    public static let defaultAwayAfter: Duration = .seconds(300)
    public static let defaultRemoveAfter: Duration = .seconds(7 * 86_400)

    public init(awayAfter: Duration = Self.defaultAwayAfter, removeAfter: Duration = Self.defaultRemoveAfter, stale: ValuePath? = nil) {
        self.awayAfter = awayAfter
        self.removeAfter = removeAfter
        self.stale = stale
    }
}
