#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Typed reads: each returns `nil` after reporting why the value is unusable.
extension ConfigReader {
    /// A scalar's text; reports a mapping or a list.
    func string(_ value: ConfigNode) -> String? {
        guard let text = value.text else {
            report("expected a string, got \(value.shapeDescription)", at: value.position, path: value.path)
            return nil
        }
        return text
    }

    /// A scalar's text, which must not be empty.
    func nonEmptyString(_ value: ConfigNode) -> String? {
        guard let text = string(value) else { return nil }
        guard !text.isEmpty else {
            report("must not be empty", at: value.position, path: value.path)
            return nil
        }
        return text
    }

    /// `true` or `false` (any letter case).
    func bool(_ value: ConfigNode) -> Bool? {
        switch value.text?.lowercased() {
        case "true": return true
        case "false": return false
        default:
            report("expected true or false, got \(value.shapeDescription)", at: value.position, path: value.path)
            return nil
        }
    }

    /// A whole number within `range`.
    func int(_ value: ConfigNode, in range: ClosedRange<Int>) -> Int? {
        guard let text = value.text, let number = Int(text) else {
            report("expected a whole number, got \(value.shapeDescription)", at: value.position, path: value.path)
            return nil
        }
        guard range.contains(number) else {
            report(
                "must be between \(range.lowerBound) and \(range.upperBound), got \(number)",
                at: value.position,
                path: value.path
            )
            return nil
        }
        return number
    }

    /// A duration such as `10s` or `1m30s`, within `range`.
    func duration(_ value: ConfigNode, in range: ClosedRange<Duration>) -> Duration? {
        guard let text = value.text, let duration = Duration(configString: text) else {
            if let text = value.text, !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
                report(
                    "expected a duration with a unit, got '\(text)' (write \(text)s)",
                    at: value.position,
                    path: value.path
                )
            } else {
                report(
                    "expected a duration like 10s, 5m or 1h30m, got \(value.shapeDescription)",
                    at: value.position,
                    path: value.path
                )
            }
            return nil
        }
        guard range.contains(duration) else {
            report(
                "must be between \(range.lowerBound.configDescription) and \(range.upperBound.configDescription), "
                    + "got \(duration.configDescription)",
                at: value.position,
                path: value.path
            )
            return nil
        }
        return duration
    }

    /// One of a fixed set of words, such as `sse`, `websocket` or `poll`.
    func choice(_ value: ConfigNode, among choices: [String]) -> String? {
        guard let text = value.text, choices.contains(text) else {
            report(
                "expected one of \(choices.joined(separator: ", ")), got \(value.shapeDescription)",
                at: value.position,
                path: value.path
            )
            return nil
        }
        return text
    }

    /// A list of non-empty strings.
    func strings(_ value: ConfigNode) -> [String]? {
        guard let elements = elements(of: value) else { return nil }
        let strings = elements.compactMap(nonEmptyString)
        return strings.count == elements.count ? strings : nil
    }

    /// What kind of file-system entry a path must name.
    enum PathKind {
        /// A regular file (or a link to one) that can be read.
        case file
        /// A folder that can be read.
        case directory
        /// Either.
        case fileOrDirectory
    }

    /// A path that must exist and be readable; relative paths start at the config file's folder.
    ///
    /// - Returns: The resolved path.
    func existingPath(_ value: ConfigNode, kind: PathKind) -> String? {
        guard let text = nonEmptyString(value) else { return nil }
        let path = resolvePath(text)
        if let problem = Self.problem(withPath: path, kind: kind) {
            report(problem, at: value.position, path: value.path)
            return nil
        }
        return path
    }

    /// Why `path` cannot be used as `kind`, or `nil` when it can.
    static func problem(withPath path: String, kind: PathKind) -> String? {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return "'\(path)' does not exist"
        }
        switch kind {
        case .file where isDirectory:
            return "'\(path)' is a directory, expected a file"
        case .directory where !isDirectory:
            return "'\(path)' is not a directory"
        default:
            break
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            return "'\(path)' is not readable"
        }
        return nil
    }
}
