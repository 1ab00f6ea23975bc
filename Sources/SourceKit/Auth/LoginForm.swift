/// The login call of a source: where to send which fields, and how they are encoded.
///
/// ```swift
/// // Fritz!Box network API: form-encoded, answers {"access_token": "...", "token_type": "bearer"}
/// let login = LoginForm(path: "/auth/login", encoding: .form,
///                       fields: ["username": Credential("admin"), "password": password])
/// // OCPP CSMS: JSON, answers {"token": "...", ...}
/// let csms = LoginForm(path: "/api/v1/users/authenticate",
///                      fields: ["username": Credential(user), "password": password])
/// ```
public struct LoginForm: Sendable {
    /// How the fields are put into the body.
    public enum Encoding: Sendable, Hashable {
        /// A JSON object of string members (`application/json`).
        case json
        /// `application/x-www-form-urlencoded`.
        case form
    }

    /// The login path (or absolute URL), resolved against the source's base URL.
    public var path: String
    /// The HTTP method, normally POST.
    public var method: SourceRequest.Method
    /// The body encoding.
    public var encoding: Encoding
    /// The fields, in the order they are sent; every value is treated as a secret.
    public var fields: [(name: String, value: Credential)]

    /// Creates a login description.
    public init(
        path: String,
        method: SourceRequest.Method = .post,
        encoding: Encoding = .json,
        fields: KeyValuePairs<String, Credential>
    ) {
        self.path = path
        self.method = method
        self.encoding = encoding
        self.fields = fields.map { (name: $0.key, value: $0.value) }
    }

    /// The encoded body.
    var body: SourceRequestBody {
        switch encoding {
        case .form:
            return .form(fields.map { (name: $0.name, value: $0.value.revealed) })
        case .json:
            let members = fields.map { (name: $0.name, value: JSONNode.string($0.value.revealed)) }
            return .json(bytes: JSONNode.object(Dictionary(members, uniquingKeysWith: { _, last in last })).encoded())
        }
    }

    /// Every field value, for scrubbing.
    var secrets: [Credential] {
        fields.map(\.value)
    }
}
