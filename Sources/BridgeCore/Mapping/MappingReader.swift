/// Reads one mapping file's composed YAML into a ``MappingFile``, reporting every problem
/// through the configuration's ``ConfigReader`` (so errors have the same
/// `file:line:column: key.path: message` form).
///
/// What it returns holds only what the file writes: defaults (names, units, state classes,
/// validation kinds) are filled by ``MappingLoader`` after overlays are merged, so an overlay
/// that changes a device class also changes the defaults that follow from it.
struct MappingReader {
    /// Collects the problems; its `file` names the mapping file.
    let reader: ConfigReader

    /// The top-level keys of a mapping file.
    static let fileKeys = ["source", "device", "entities", "commands"]

    /// Reads the whole file.
    ///
    /// - Returns: The mapping, or `nil` when `source:` is missing or unusable (reported).
    func read(_ top: ConfigSection) -> MappingFile? {
        reader.rejectUnknownKeys(in: top, allowed: Self.fileKeys)
        reader.requireKey("source", in: top)
        let source = top["source"].flatMap(identifier)
        let device = top["device"].flatMap(deviceTemplate) ?? DeviceTemplate()
        let entities = list(top["entities"], noun: "entity", read: entity)
        let commands = list(top["commands"], noun: "command", read: command)
        guard let source else { return nil }
        return MappingFile(
            source: source,
            device: device,
            entities: entities,
            commands: commands,
            file: reader.file,
            position: top["source"].map(position) ?? MappingPosition(file: reader.file, line: 1, column: 1, keyPath: "source")
        )
    }

    /// Reads `entities:` or `commands:`, reporting an id used twice in this file at the repeat.
    private func list<Item: Identifiable>(
        _ value: ConfigNode?,
        noun: String,
        read: (ConfigSection) -> Item?
    ) -> [Item] where Item.ID == String {
        guard let value, let elements = reader.elements(of: value) else { return [] }
        var items: [Item] = []
        var firstLine: [String: Int] = [:]
        for element in elements {
            guard let section = reader.section(element), let item = read(section) else { continue }
            if let line = firstLine[item.id] {
                let at = section["id"]?.position ?? section.position
                reader.report("duplicate \(noun) id '\(item.id)' (first defined at line \(line))", at: at, path: section.path("id"))
                continue
            }
            firstLine[item.id] = (section["id"]?.position ?? section.position).line
            items.append(item)
        }
        return items
    }

    // MARK: - Shared readers

    /// Where a value is, as a ``MappingPosition``.
    func position(_ value: ConfigNode) -> MappingPosition {
        MappingPosition(file: reader.file, line: value.position.line, column: value.position.column, keyPath: value.path)
    }

    /// Where a section is.
    func position(_ section: ConfigSection) -> MappingPosition {
        MappingPosition(file: reader.file, line: section.position.line, column: section.position.column, keyPath: section.path)
    }

    /// The positions of every key a section writes (the value's position, or the key's for a
    /// null value).
    func keyPositions(_ section: ConfigSection) -> [String: MappingPosition] {
        var positions: [String: MappingPosition] = [:]
        for key in section.keys {
            let at = section[key.name]?.position ?? key.position
            positions[key.name] = MappingPosition(file: reader.file, line: at.line, column: at.column, keyPath: section.path(key.name))
        }
        return positions
    }

    /// A snake_case id: `a-z`, `0-9` and `_`, starting with a letter, because it becomes a topic
    /// level and part of Home Assistant's `unique_id`.
    func identifier(_ value: ConfigNode) -> String? {
        guard let text = reader.string(value) else { return nil }
        let valid = text.first.map { ("a"..."z").contains($0) } == true
            && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        guard valid else {
            reader.report(
                "must be snake_case (a-z, 0-9 and '_', starting with a letter), got '\(text)'",
                at: value.position,
                path: value.path
            )
            return nil
        }
        return text
    }

    /// A path into a JSON document.
    func valuePath(_ value: ConfigNode) -> ValuePath? {
        guard let text = reader.nonEmptyString(value) else { return nil }
        do {
            return try ValuePath(parsing: text)
        } catch {
            reader.report(error.description, at: value.position, path: value.path)
            return nil
        }
    }

    /// A path, or a list of alternative paths.
    func valuePaths(_ value: ConfigNode) -> [ValuePath]? {
        guard case .sequence = value.node else { return valuePath(value).map { [$0] } }
        guard let elements = reader.elements(of: value) else { return nil }
        let paths = elements.compactMap(valuePath)
        guard paths.count == elements.count else { return nil }
        guard !paths.isEmpty else {
            reader.report("must list at least one path", at: value.position, path: value.path)
            return nil
        }
        return paths
    }

    /// A finite decimal number.
    func number(_ value: ConfigNode) -> Double? {
        guard let text = value.text, let number = Self.decimal(text) else {
            reader.report("expected a number, got \(value.shapeDescription)", at: value.position, path: value.path)
            return nil
        }
        return number
    }

    /// A plain decimal number (`12`, `-0.5`, `1e3`); not `inf`, `nan` or hexadecimal.
    static func decimal(_ text: String) -> Double? {
        guard !text.isEmpty, text.allSatisfy({ "0123456789+-.eE".contains($0) }), let number = Double(text), number.isFinite
        else { return nil }
        return number
    }

    /// One of a closed set of words, read into a `RawRepresentable` enum.
    func choice<Value: RawRepresentable & CaseIterable>(_ value: ConfigNode, _ type: Value.Type) -> Value?
    where Value.RawValue == String {
        reader.choice(value, among: Value.allCases.map(\.rawValue)).flatMap(Value.init(rawValue:))
    }

    /// A list of option strings (numbers and booleans are taken as their text).
    func options(_ value: ConfigNode) -> [String]? {
        guard let elements = reader.elements(of: value) else { return nil }
        let options = elements.compactMap(reader.string)
        guard options.count == elements.count else { return nil }
        guard !options.isEmpty else {
            reader.report("an empty options list is not allowed", at: value.position, path: value.path)
            return nil
        }
        var seen = Set<String>()
        for (element, option) in zip(elements, options) where !seen.insert(option).inserted {
            reader.report("option '\(option)' is listed twice", at: element.position, path: element.path)
        }
        return options
    }

    /// A duration such as `10s` or `5m` (at most a day).
    func duration(_ value: ConfigNode) -> Duration? {
        reader.duration(value, in: .zero ... .seconds(86_400))
    }

    /// A whole number of decimals, 0 to 15.
    func decimals(_ value: ConfigNode) -> Int? {
        reader.int(value, in: 0...15)
    }

    /// Any YAML value as JSON: plain scalars by their YAML 1.2 core type (`true`, `12`, `null`),
    /// quoted scalars as strings.
    static func json(_ node: YAMLNode) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            guard scalar.style == .plain else { return .string(scalar.string) }
            return plainScalar(scalar.string)
        case .sequence(let sequence):
            return .array(sequence.elements.map(json))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for pair in mapping.pairs {
                members[pair.key.string] = json(pair.value)
            }
            return .object(members)
        }
    }

    /// A plain scalar's JSON value.
    static func plainScalar(_ text: String) -> JSONValue {
        switch text {
        case "", "~", "null", "Null", "NULL": .null
        case "true", "True", "TRUE": .bool(true)
        case "false", "False", "FALSE": .bool(false)
        default: decimal(text).map(JSONValue.number) ?? .string(text)
        }
    }

    /// A scalar's JSON value, after `${…}` interpolation.
    func json(_ value: ConfigNode) -> JSONValue {
        guard let text = value.text, case .scalar(let scalar) = value.node else { return Self.json(value.node) }
        guard scalar.style == .plain else { return .string(text) }
        return Self.plainScalar(text)
    }
}
