import Synchronization

/// One request as a simulator received it.
public struct RecordedRequest: Hashable, Sendable {
    /// The HTTP method, e.g. `"GET"`.
    public var method: String
    /// The path without the query, e.g. `"/meter"`.
    public var path: String
    /// The raw query string without `?`, empty when there is none.
    public var query: String
    /// Header fields by lower-case name; repeated fields are joined with `", "`.
    /// The value of `authorization` is replaced by its scheme and `***` (`"Bearer ***"`).
    public var headers: [String: String]
    /// The request body as received (empty for requests without one).
    public var body: [UInt8]

    /// Creates a record.
    public init(method: String, path: String, query: String = "", headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The body decoded as UTF-8.
    public var bodyString: String {
        String(decoding: body, as: UTF8.self)
    }

    /// Hides the credential in an `Authorization` value and keeps its scheme (`"Bearer abc"` → `"Bearer ***"`).
    static func redactAuthorization(_ value: String) -> String {
        if let space = value.firstIndex(of: " ") {
            return "\(value[..<space]) ***"
        }
        return "***"
    }
}

/// Every request a simulator received, in arrival order, so a test can assert what reached the device
/// (e.g. "no POST reached the simulator"). Thread-safe.
public final class RequestLog: Sendable {
    private let entries = Mutex<[RecordedRequest]>([])

    /// Creates an empty log.
    public init() {}

    /// Appends a request.
    public func record(_ request: RecordedRequest) {
        entries.withLock { $0.append(request) }
    }

    /// Every request so far, oldest first.
    public var all: [RecordedRequest] {
        entries.withLock { $0 }
    }

    /// The requests matching `method` and/or `path` (either may be `nil` for "any").
    public func requests(method: String? = nil, path: String? = nil) -> [RecordedRequest] {
        all.filter { request in
            (method.map { $0.uppercased() == request.method } ?? true) && (path.map { $0 == request.path } ?? true)
        }
    }

    /// How many requests match `method` and/or `path`.
    public func count(method: String? = nil, path: String? = nil) -> Int {
        requests(method: method, path: path).count
    }

    /// Forgets every request recorded so far.
    public func clear() {
        entries.withLock { $0.removeAll() }
    }
}
