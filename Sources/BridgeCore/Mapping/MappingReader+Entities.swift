/// Reading `entities:` and `commands:` items.
extension MappingReader {
    /// The keys an entity accepts (its fields are ``EntityMapping/fieldKeys``).
    static let entityKeys = ["id"] + EntityMapping.fieldKeys.map(\.key) + ["transforms"] + ValueTransform.names

    /// The keys a command accepts (its fields are ``CommandMapping/fieldKeys``).
    static let commandKeys = ["id", "call", "action"] + CommandMapping.fieldKeys.map(\.key) + ["transforms"] + ValueTransform.names

    /// The keys `validate:` accepts.
    static let validationKeys = ["type", "min", "max", "options", "pattern", "max_length"]

    /// The keys `call:` accepts.
    static let callKeys = ["method", "path", "query", "body"]

    /// The HTTP methods a call may use.
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    /// The words `state_class:` accepts; `none` switches off the device class's default.
    static let stateClassWords = StateClass.allCases.map(\.rawValue) + ["none"]

    /// One `entities:` item, holding only what the file writes (see ``MappingReader``).
    ///
    /// - Returns: The entity, or `nil` when its id is missing or unusable (reported).
    func entity(_ section: ConfigSection) -> EntityMapping? {
        reader.rejectUnknownKeys(in: section, allowed: Self.entityKeys)
        reader.requireKey("id", in: section)
        guard let id = section["id"].flatMap(identifier) else { return nil }
        var entity = EntityMapping(id: id, sources: [], position: position(section), keyPositions: keyPositions(section))
        if let value = section["name"], let name = reader.nonEmptyString(value) { entity.name = name }
        if let value = section["component"], let component = choice(value, HAComponent.self) { entity.component = component }
        if let value = section["from"], let sources = sources(value) { entity.sources = sources }
        if let value = section["child"] { entity.child = child(value) }
        entity.transforms = transforms(in: section) ?? []
        entity.precision = section["precision"].flatMap(decimals)
        entity.deviceClass = section["device_class"].flatMap(identifier)
        if let value = section["state_class"], let word = reader.choice(value, among: Self.stateClassWords) {
            entity.stateClass = StateClass(rawValue: word)
        }
        entity.unit = section["unit"].flatMap(reader.nonEmptyString)
        entity.entityCategory = section["entity_category"].flatMap { choice($0, EntityCategory.self) }
        entity.icon = section["icon"].flatMap(icon)
        if let value = section["enabled_by_default"], let flag = reader.bool(value) { entity.enabledByDefault = flag }
        if let value = section["enabled"], let flag = reader.bool(value) { entity.enabled = flag }
        entity.options = section["options"].flatMap(options)
        entity.min = section["min"].flatMap(number)
        entity.max = section["max"].flatMap(number)
        entity.step = section["step"].flatMap(positiveStep)
        entity.expireAfter = section["expire_after"].flatMap(duration)
        entity.debounce = section["debounce"].flatMap(duration)
        entity.attributesFrom = section["json_attributes"].flatMap { pathOrSource($0) }
        entity.presence = section["presence"].flatMap(presence)
        return entity
    }

    /// `presence: { away_after: 5m, remove_after: 7d, stale: { path: is_stale } }`.
    func presence(_ value: ConfigNode) -> PresenceSettings? {
        guard let section = reader.section(value) else { return nil }
        reader.rejectUnknownKeys(in: section, allowed: ["away_after", "remove_after", "stale"])
        var settings = PresenceSettings()
        if let node = section["away_after"] {
            guard let away = reader.duration(node, in: .seconds(10) ... .seconds(7 * 86_400)) else { return nil }
            settings.awayAfter = away
        }
        if let node = section["remove_after"] {
            guard let remove = reader.duration(node, in: .seconds(60) ... .seconds(365 * 86_400)) else { return nil }
            settings.removeAfter = remove
        }
        if let node = section["stale"] {
            guard let inner = reader.section(node) else { return nil }
            reader.rejectUnknownKeys(in: inner, allowed: ["path"])
            reader.requireKey("path", in: inner)
            guard let path = inner["path"].flatMap(valuePath) else { return nil }
            settings.stale = path
        }
        return settings
    }

    /// One `commands:` item, holding only what the file writes.
    ///
    /// - Returns: The command, or `nil` when its id is missing or unusable (reported).
    func command(_ section: ConfigSection) -> CommandMapping? {
        reader.rejectUnknownKeys(in: section, allowed: Self.commandKeys)
        reader.requireKey("id", in: section)
        guard let id = section["id"].flatMap(identifier) else { return nil }
        var command = CommandMapping(id: id, target: nil, position: position(section), keyPositions: keyPositions(section))
        if let value = section["name"], let name = reader.nonEmptyString(value) { command.name = name }
        command.component = section["component"].flatMap { choice($0, HAComponent.self) }
        command.entityCategory = section["entity_category"].flatMap { choice($0, EntityCategory.self) }
        command.icon = section["icon"].flatMap(icon)
        command.deviceClass = section["device_class"].flatMap(identifier)
        command.unit = section["unit"].flatMap(reader.nonEmptyString)
        command.state = section["state"].flatMap(source)
        if let value = section["validate"], let validation = validation(value) { command.validation = validation }
        command.transforms = transforms(in: section) ?? []
        command.options = section["options"].flatMap(options)
        command.min = section["min"].flatMap(number)
        command.max = section["max"].flatMap(number)
        command.step = section["step"].flatMap(positiveStep)
        command.child = section["child"].flatMap(child)
        if let value = section["enabled_by_default"], let flag = reader.bool(value) { command.enabledByDefault = flag }
        if let value = section["enabled"], let flag = reader.bool(value) { command.enabled = flag }
        if let value = section["call"] { command.target = call(value).map(CommandTarget.call) }
        if let value = section["action"] {
            if section["call"] != nil {
                reader.report("give either call or action, not both", at: value.position, path: value.path)
            } else {
                command.target = identifier(value).map(CommandTarget.action)
            }
        }
        return command
    }

    /// `mdi:<name>`.
    private func icon(_ value: ConfigNode) -> String? {
        guard let text = reader.nonEmptyString(value) else { return nil }
        guard text.hasPrefix("mdi:"), text.count > 4 else {
            reader.report("expected an icon like mdi:flash, got '\(text)'", at: value.position, path: value.path)
            return nil
        }
        return text
    }

    /// A step above zero.
    private func positiveStep(_ value: ConfigNode) -> Double? {
        guard let step = number(value) else { return nil }
        guard step > 0 else {
            reader.report("must be greater than 0, got \(JSONValue.format(step))", at: value.position, path: value.path)
            return nil
        }
        return step
    }

    /// `validate: { type: integer, min: 1, max: 32 }`.
    private func validation(_ value: ConfigNode) -> CommandValidation? {
        guard let section = reader.section(value) else { return nil }
        reader.rejectUnknownKeys(in: section, allowed: Self.validationKeys)
        reader.requireKey("type", in: section)
        guard let kind = section["type"].flatMap({ choice($0, CommandValidation.Kind.self) }) else { return nil }
        var validation = CommandValidation(kind: kind)
        validation.min = section["min"].flatMap(number)
        validation.max = section["max"].flatMap(number)
        validation.options = section["options"].flatMap(options)
        validation.maxLength = section["max_length"].flatMap { reader.int($0, in: 1...65_536) }
        if let pattern = section["pattern"], let text = reader.nonEmptyString(pattern) {
            do {
                _ = try Regex(text)
                validation.pattern = text
            } catch {
                reader.report("invalid regular expression '\(text)': \(error)", at: pattern.position, path: pattern.path)
            }
        }
        return validation
    }

    /// `call: { method: POST, path: /configuration, query: {…}, body: {…} }`.
    private func call(_ value: ConfigNode) -> MappedCall? {
        guard let section = reader.section(value) else { return nil }
        reader.rejectUnknownKeys(in: section, allowed: Self.callKeys)
        reader.requireKey("method", in: section)
        reader.requireKey("path", in: section)
        var method: String?
        if let node = section["method"], let text = reader.nonEmptyString(node) {
            if Self.methods.contains(text.uppercased()) {
                method = text.uppercased()
            } else {
                reader.report("expected one of \(Self.methods.joined(separator: ", ")), got '\(text)'", at: node.position, path: node.path)
            }
        }
        var path: String?
        if let node = section["path"], let text = reader.nonEmptyString(node) {
            if text.hasPrefix("/") {
                path = text
            } else {
                reader.report("must start with '/', got '\(text)'", at: node.position, path: node.path)
            }
        }
        var query: [QueryItem] = []
        if let node = section["query"], let inner = reader.section(node) {
            for key in inner.keys {
                guard let item = inner[key.name], let text = reader.string(item) else { continue }
                query.append(QueryItem(name: key.name, value: text))
            }
        }
        let body = section["body"].map { Self.json($0.node) }
        guard let method, let path else { return nil }
        return MappedCall(method: method, path: path, query: query, body: body)
    }
}
