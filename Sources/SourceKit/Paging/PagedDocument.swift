/// All pages of a limit/offset list, joined into one document.
public struct PagedDocument: Sendable {
    /// `{"items": [...every page's items...], "total_count": n}` as JSON.
    public var body: [UInt8]
    /// How many items were collected.
    public var itemCount: Int
    /// The server's `total_count` (the item count when it sent none).
    public var totalCount: Int
    /// How many pages (requests) it took.
    public var pages: Int
    /// Whether every page was answered 304 Not Modified.
    public var unchanged: Bool
}
