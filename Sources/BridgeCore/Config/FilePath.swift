/// The two path operations the loaders need, on plain strings (as `NSString`'s
/// `deletingLastPathComponent` and `appendingPathComponent` did, without Foundation).
enum FilePath {
    /// The folder part of `path`: `""` for a bare name, `/` for a file in the root.
    static func directory(of path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        var directory = path[..<slash]
        while directory.count > 1, directory.hasSuffix("/") { directory = directory.dropLast() }
        return String(directory)
    }

    /// `name` inside `directory`, with one `/` between them.
    static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
