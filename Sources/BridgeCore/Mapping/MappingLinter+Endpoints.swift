#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension MappingLinter {
    /// Every place `mapping` reads an endpoint that is not in `served` (the endpoints its
    /// source's adapter delivers): such an entity would never get a value.
    public static func unservedEndpoints(_ mapping: MappingFile, served: Set<String>) -> [ConfigError] {
        var errors: [ConfigError] = []
        let list = served.sorted().joined(separator: ", ")
        func check(_ endpoint: String, at position: MappingPosition) {
            guard !served.contains(endpoint) else { return }
            errors.append(position.error("endpoint '\(endpoint)' is not served by the \(mapping.source) adapter (it serves \(list))"))
        }
        for entity in mapping.entities {
            for source in entity.sources { check(source.endpoint, at: source.position) }
            if let child = entity.child { check(child.endpoint, at: child.position) }
            if let attributes = entity.attributesFrom { check(attributes.endpoint, at: entity.position(of: "json_attributes")) }
        }
        for command in mapping.commands {
            if let state = command.state { check(state.endpoint, at: state.position) }
            if let child = command.child { check(child.endpoint, at: child.position) }
        }
        for case .source(let source) in mapping.device.fields.values {
            check(source.endpoint, at: source.position)
        }
        return sorted(errors)
    }

    /// ``check(builtIn:overlay:environment:)`` plus ``unservedEndpoints(_:served:)`` for every
    /// mapping whose source type is in `served`.
    public static func check(
        builtIn directory: String, overlay: String? = nil, served: [String: Set<String>],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [ConfigError] {
        let (mappings, errors) = MappingLoader.collect(builtIn: directory, overlay: overlay, environment: environment)
        var all = errors + lint(mappings)
        for (type, mapping) in mappings {
            if let endpoints = served[type] { all += unservedEndpoints(mapping, served: endpoints) }
        }
        return sorted(all)
    }
}
