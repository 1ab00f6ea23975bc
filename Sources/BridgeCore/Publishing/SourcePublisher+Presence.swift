/// Presence of `device_tracker` children (see ``PresenceSettings`` and ``PresenceTracker``).
extension SourcePublisher {
    /// One tracker entity's presence rules and state.
    struct Presence {
        let entityID: String
        let kind: String
        let endpoint: String
        let stale: ValuePath?
        var tracker: PresenceTracker<Instant>
    }

    /// The presence trackers of a mapping: a source's own `away_after` / `remove_after`
    /// settings win over the mapping's.
    static func presences(of mapping: MappingFile, configuration: SourceConfiguration) -> [Presence] {
        mapping.entities.compactMap { entity in
            guard let settings = entity.presence, let child = entity.child else { return nil }
            let away = configuration.duration("away_after") ?? settings.awayAfter
            let remove = configuration.duration("remove_after") ?? settings.removeAfter
            return Presence(
                entityID: entity.id, kind: child.kind, endpoint: child.endpoint, stale: settings.stale,
                tracker: PresenceTracker(awayAfter: away, removeAfter: remove))
        }
    }

    /// Replaces the tracker readings of one document by the presence they mean, and says which
    /// children to leave out (removed clients still listed offline) and which to remove.
    func applyPresence(
        to output: inout MappingOutput, endpoint: String, document: JSONValue, at instant: Instant
    ) -> Set<String> {
        var remove: Set<String> = []
        for index in presences.indices where presences[index].endpoint == endpoint {
            let entityID = presences[index].entityID
            let kind = presences[index].kind
            // Only a document whose list is there says anything about who is online.
            guard output.childIDs[kind] != nil else { continue }
            var online: [String: Bool] = [:]
            // The tracker's attributes (json_attributes: the client's IP, MAC, name) go with its state.
            var attributes: [String: JSONValue] = [:]
            for reading in output.readings where reading.entityID == entityID {
                guard let child = reading.childID else { continue }
                online[child] = reading.value == .bool(true) || reading.value == .string("home")
                attributes[child] = reading.attributes
            }
            let fresh = presences[index].stale.flatMap { $0.resolve(in: ValuePath.Context(document: document)) } != .bool(true)
            let changes = presences[index].tracker.observe(online: online, fresh: fresh, at: instant)
            output.readings.removeAll { $0.entityID == entityID }
            for (child, state) in changes.states.sorted(by: { $0.key < $1.key }) where !changes.removed.contains(child) {
                output.readings.append(
                    Reading(entityID: entityID, childID: child, value: .string(state), attributes: attributes[child]))
            }
            if !changes.ignored.isEmpty {
                output.children.removeAll { $0.kind == kind && changes.ignored.contains($0.id) }
                output.readings.removeAll { $0.childID.map(changes.ignored.contains) == true }
            }
            remove.formUnion(changes.removed)
        }
        return remove
    }
}
