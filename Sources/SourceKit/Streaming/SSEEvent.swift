/// One event of a server-sent-event stream, as dispatched by ``SSEParser``.
public struct SSEEvent: Sendable, Hashable, CustomStringConvertible {
    /// The `event:` name; `message` when the server sent none.
    public var type: String
    /// The `data:` lines joined with line feeds.
    public var data: String
    /// The last event ID in effect when the event was dispatched (sticky across events), if any.
    public var id: String?

    /// Creates an event.
    public init(type: String = "message", data: String, id: String? = nil) {
        self.type = type
        self.data = data
        self.id = id
    }

    /// `type id=… (n bytes)`; the data itself is not printed.
    public var description: String {
        "\(type)" + (id.map { " id=\($0)" } ?? "") + " (\(data.utf8.count) bytes)"
    }
}
