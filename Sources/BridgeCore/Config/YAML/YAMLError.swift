/// Why a document could not be composed, and where.
///
/// `message` is one line that never quotes more of the file than the character at fault
/// (a scalar could hold a secret).
struct YAMLError: Error, Equatable {
    /// What is wrong: "YAML syntax error: …", "duplicate key 'url' in one mapping", or a
    /// feature "… is not supported".
    let message: String
    /// Where.
    let position: ConfigPosition

    /// A syntax error.
    static func syntax(_ problem: String, at position: ConfigPosition) -> YAMLError {
        YAMLError(message: "YAML syntax error: \(problem)", position: position)
    }

    /// A YAML feature this reader deliberately does not read; `sentence` says which, such as
    /// "YAML tags (!name) are not supported".
    static func unsupported(_ sentence: String, at position: ConfigPosition) -> YAMLError {
        YAMLError(message: sentence, position: position)
    }
}
