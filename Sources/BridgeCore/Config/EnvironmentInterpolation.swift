#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Replaces `${NAME}` and `${NAME:-default}` in a configuration scalar with environment values.
///
/// - `${NAME}` is the variable's value; an unset variable is an error.
/// - `${NAME:-default}` is the value, or `default` when the variable is unset or empty
///   (the shell's `:-`). The default is literal text and may be empty.
/// - `$${` is a literal `${`; any other `$` is kept as written.
///
/// References may appear anywhere in a scalar, several times: `http://${HOST}:${PORT:-80}/`.
/// Failures name the variable, never a value.
struct EnvironmentInterpolation {
    /// Why a reference could not be replaced.
    enum Failure: Error, Equatable {
        /// `${NAME}` without a default, and `NAME` is not set.
        case undefined(name: String)
        /// `${` with no closing `}`.
        case unterminated
        /// The text between `${` and `}` is not a variable name.
        case invalidName(String)

        /// One line for a ``ConfigError``.
        var message: String {
            switch self {
            case .undefined(let name):
                "environment variable '\(name)' is not set (write ${\(name):-default} to give a default)"
            case .unterminated:
                "unterminated '${' (write $${ for a literal '${')"
            case .invalidName(let name):
                "'\(name)' is not an environment variable name (letters, digits and '_', not starting with a digit)"
            }
        }
    }

    /// The variables references are resolved against.
    let environment: [String: String]

    /// Interpolates one scalar.
    ///
    /// - Returns: The text with every reference replaced, and every failure found (the text is
    ///   meaningless when there are failures).
    func interpolate(_ text: String) -> (text: String, failures: [Failure]) {
        guard text.contains("$") else { return (text, []) }
        var output = ""
        var failures: [Failure] = []
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            rest = rest[dollar...]
            if rest.hasPrefix("$${") {
                output += "${"
                rest = rest.dropFirst(3)
            } else if rest.hasPrefix("${") {
                guard let close = rest.firstIndex(of: "}") else {
                    failures.append(.unterminated)
                    return (output, failures)
                }
                let body = rest[rest.index(rest.startIndex, offsetBy: 2)..<close]
                switch resolve(body) {
                case .success(let value): output += value
                case .failure(let failure): failures.append(failure)
                }
                rest = rest[rest.index(after: close)...]
            } else {
                output += "$"
                rest = rest.dropFirst()
            }
        }
        output += rest
        return (output, failures)
    }

    /// Resolves the text between `${` and `}`.
    private func resolve(_ body: Substring) -> Result<String, Failure> {
        let name: Substring
        let fallback: Substring?
        if let separator = body.firstRange(of: ":-") {
            name = body[..<separator.lowerBound]
            fallback = body[separator.upperBound...]
        } else {
            name = body
            fallback = nil
        }
        guard Self.isVariableName(name) else { return .failure(.invalidName(String(name))) }
        if let fallback {
            if let value = environment[String(name)], !value.isEmpty { return .success(value) }
            return .success(String(fallback))
        }
        guard let value = environment[String(name)] else { return .failure(.undefined(name: String(name))) }
        return .success(value)
    }

    /// Whether `name` is a POSIX-style variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
