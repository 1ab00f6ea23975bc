#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Secrets: a key given inline (`password: ${MQTT_PASSWORD}`) or read from a file
/// (`password_file: /run/secrets/mqtt`), never both, and never echoed in an error.
extension ConfigReader {
    /// Reads `key` or `<key>_file` from `section`.
    ///
    /// A `*_file` is read whole, with one trailing newline (`\n` or `\r\n`) removed, because
    /// `echo secret > file` and most secret stores add one. Errors name the file, never its content.
    ///
    /// - Returns: The secret, or `nil` when neither key is given or the value is unusable (reported).
    func secret(_ key: String, in section: ConfigSection) -> Secret? {
        let fileKey = key + "_file"
        if section.isGiven(key), section.isGiven(fileKey) {
            let keyPosition = section.keyPosition(key) ?? section.position
            let filePosition = section.keyPosition(fileKey) ?? section.position
            let fileIsLater = filePosition > keyPosition
            report(
                "give either '\(key)' or '\(fileKey)', not both",
                at: fileIsLater ? filePosition : keyPosition,
                path: section.path(fileIsLater ? fileKey : key)
            )
            return nil
        }
        if let value = section[key] {
            guard let text = value.text else {
                report("expected a string, got \(value.redactedShapeDescription)", at: value.position, path: value.path)
                return nil
            }
            guard !text.isEmpty else {
                report("must not be empty", at: value.position, path: value.path)
                return nil
            }
            return Secret(text)
        }
        guard let value = section[fileKey], let text = nonEmptyString(value) else { return nil }
        let path = resolvePath(text)
        switch Self.readSecretFile(atPath: path) {
        case .success(let secret):
            return secret
        case .failure(let problem):
            report(problem.message, at: value.position, path: value.path)
            return nil
        }
    }

    /// Why a secret file could not be used; the message names the path only.
    struct SecretFileProblem: Error {
        /// One line for a ``ConfigError``.
        let message: String
    }

    /// Reads a secret file, trimming one trailing newline.
    static func readSecretFile(atPath path: String) -> Result<Secret, SecretFileProblem> {
        if let problem = problem(withPath: path, kind: .file) {
            return .failure(SecretFileProblem(message: "cannot read secret file: \(problem)"))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(SecretFileProblem(message: "cannot read secret file: '\(path)' is not readable"))
        }
        guard var text = String(data: data, encoding: .utf8) else {
            return .failure(SecretFileProblem(message: "cannot read secret file: '\(path)' is not UTF-8 text"))
        }
        var scalars = text.unicodeScalars
        if scalars.last == "\n" {
            scalars.removeLast()
            if scalars.last == "\r" { scalars.removeLast() }
            text = String(scalars)
        }
        guard !text.isEmpty else {
            return .failure(SecretFileProblem(message: "secret file '\(path)' is empty"))
        }
        return .success(Secret(text))
    }
}
