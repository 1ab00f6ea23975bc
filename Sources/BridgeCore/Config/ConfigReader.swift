#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Walks a composed YAML tree and collects every problem instead of stopping at the first.
///
/// Typed reads (`string`, `duration`, `secret`, …, in `ConfigReader+Values.swift`) return
/// `nil` after reporting why, so a section reader can carry on and find the next problem.
/// Values built while errors exist are never handed out: the loader throws them all.
final class ConfigReader {
    /// The configuration file's path, as given to the loader; every error names it.
    let file: String
    /// Resolves `${…}` references.
    let interpolation: EnvironmentInterpolation
    /// Where relative paths (`password_file`, `ca_file`, `mapping`) start: the config file's folder.
    let baseDirectory: String?
    /// Every problem found so far, in the order found.
    private(set) var errors: [ConfigError] = []

    /// Creates a reader for one file.
    init(file: String, environment: [String: String]) {
        self.file = file
        self.interpolation = EnvironmentInterpolation(environment: environment)
        let directory = FilePath.directory(of: file)
        self.baseDirectory = directory.isEmpty ? nil : directory
    }

    /// Records a problem at a position.
    func report(_ message: String, at position: ConfigPosition, path: String) {
        errors.append(ConfigError(file: file, line: position.line, column: position.column, keyPath: path, message: message))
    }

    /// Wraps a composed node, interpolating a scalar.
    ///
    /// - Returns: The node, or `nil` when interpolation failed (already reported).
    func node(_ node: YAMLNode, path: String) -> ConfigNode? {
        let position = node.position
        guard case .scalar(let scalar) = node else {
            return ConfigNode(node: node, path: path, position: position, text: nil)
        }
        let (text, failures) = interpolation.interpolate(scalar.string)
        for failure in failures {
            report(failure.message, at: position, path: path)
        }
        guard failures.isEmpty else { return nil }
        return ConfigNode(node: node, path: path, position: position, text: text)
    }

    /// Whether a value counts as not given: a plain scalar that is empty, `~` or `null` after
    /// interpolation. Quoted scalars are never null, so `""` stays an empty string.
    func isNull(_ node: YAMLNode) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        if ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return true }
        guard scalar.string.contains("${") else { return false }
        let (text, failures) = interpolation.interpolate(scalar.string)
        return failures.isEmpty && text.isEmpty
    }

    /// Opens a mapping value as a section; reports anything else.
    ///
    /// - Returns: The section, or `nil` when the value is not a mapping.
    func section(_ value: ConfigNode) -> ConfigSection? {
        guard case .mapping(let mapping) = value.node else {
            report("expected a mapping of keys, got \(value.shapeDescription)", at: value.position, path: value.path)
            return nil
        }
        return ConfigSection(mapping: mapping, path: value.path, position: value.position, reader: self)
    }

    /// Opens the section under `key`, or an empty one when the key is not given.
    ///
    /// - Returns: The section, or `nil` when the value is there but is not a usable mapping.
    func section(_ key: String, in parent: ConfigSection) -> ConfigSection? {
        guard let value = parent[key] else {
            if parent.isGiven(key) { return nil }  // failed to interpolate: already reported
            return ConfigSection(emptyAt: parent.keyPosition(key) ?? parent.position, path: parent.path(key))
        }
        return section(value)
    }

    /// The elements of a list value, each interpolated; reports a value that is not a list.
    ///
    /// - Returns: The elements (those that failed to interpolate are left out), or `nil` when
    ///   the value is not a list.
    func elements(of value: ConfigNode) -> [ConfigNode]? {
        guard case .sequence(let sequence) = value.node else {
            report("expected a list, got \(value.shapeDescription)", at: value.position, path: value.path)
            return nil
        }
        return sequence.elements.enumerated().compactMap { index, element in
            node(element, path: ConfigNode.path(value.path, index: index))
        }
    }

    /// Reports every key of `section` that is not in `allowed`, with a suggestion when one is close.
    ///
    /// - Parameter subject: Added to the message, such as "for source type 'flowerhub'".
    func rejectUnknownKeys(in section: ConfigSection, allowed: [String], subject: String? = nil) {
        for key in section.keys where !allowed.contains(key.name) {
            var message = "unknown key '\(key.name)'"
            if let subject { message += " \(subject)" }
            if let suggestion = KeySuggestion.closest(to: key.name, among: allowed) {
                message += " (did you mean '\(suggestion)'?)"
            } else {
                message += " (known: \(allowed.joined(separator: ", ")))"
            }
            report(message, at: key.position, path: section.path(key.name))
        }
    }

    /// Reports a required key that is not given, at the mapping that should hold it.
    func requireKey(_ key: String, in section: ConfigSection) {
        guard !section.isGiven(key) else { return }
        report("missing required key '\(key)'", at: section.position, path: section.path)
    }

    /// Resolves a path from the file against the config file's folder, unless it is absolute.
    func resolvePath(_ path: String) -> String {
        guard !path.hasPrefix("/"), let baseDirectory else { return path }
        return FilePath.join(baseDirectory, path)
    }
}
