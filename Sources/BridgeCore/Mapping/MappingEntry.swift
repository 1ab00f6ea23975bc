/// What entities and commands share: a position in their file and the positions of the keys
/// the file writes, for lint messages that point at the right line.
public protocol MappingEntry {
    var position: MappingPosition { get }
    var keyPositions: [String: MappingPosition] { get }
}

extension MappingEntry {
    /// Where `key` is written, or the entry's own position when the file does not write it.
    public func position(of key: String) -> MappingPosition {
        keyPositions[key] ?? MappingPosition(
            file: position.file,
            line: position.line,
            column: position.column,
            keyPath: ConfigNode.path(position.keyPath, key)
        )
    }

    /// Whether the file writes `key` for this entry.
    public func writes(_ key: String) -> Bool {
        keyPositions[key] != nil
    }
}

extension EntityMapping: MappingEntry {}
extension CommandMapping: MappingEntry {}
