extension SourceHTTPClient {
    /// Fetches every page of a limit/offset list (`items`, `total_count`) and joins them.
    ///
    /// Each page asks for `maxPageSize` items, the most the API allows, so the fewest
    /// requests are spent from the rate budget. The offset advances by the number of items
    /// actually returned, so a server that clamps `limit` lower still pages correctly. Paging
    /// stops at `total_count`, at an empty page, at a short page when no total is sent, or
    /// after `maxPages`. An `items` of `null` counts as empty.
    /// - Throws: ``SourceError``; ``SourceError/malformedResponse(_:)`` when a page has no item list.
    public func paginate(
        _ path: String,
        query: [(name: String, value: String)] = [],
        maxPageSize: Int = 1000,
        itemsKey: String = "items",
        totalKey: String = "total_count",
        limitParameter: String = "limit",
        offsetParameter: String = "offset",
        maxPages: Int = 100,
        priority: RequestPriority = .poll
    ) async throws(SourceError) -> PagedDocument {
        let pageSize = max(1, maxPageSize)
        var items: [JSONNode] = []
        var total: Int?
        var pages = 0
        var unchanged = true
        while pages < max(1, maxPages) {
            let pageQuery = query + [(name: limitParameter, value: String(pageSize)), (name: offsetParameter, value: String(items.count))]
            let response = try await get(path, query: pageQuery, priority: priority)
            pages += 1
            unchanged = unchanged && response.unchanged
            let page = try JSONNode.parse(response.body)
            let pageItems: [JSONNode]
            switch page.value(at: itemsKey) {
            case .array(let elements): pageItems = elements
            case .null: pageItems = []
            default: throw .malformedResponse("page has no '\(itemsKey)' list")
            }
            if case .integer(let count) = page.value(at: totalKey) { total = Int(count) }
            items += pageItems
            if pageItems.isEmpty { break }
            if let total, items.count >= total { break }
            if total == nil, pageItems.count < pageSize { break }
        }
        let totalCount = total ?? items.count
        let document = JSONNode.object(["items": .array(items), totalKey: .integer(Int64(totalCount))])
        return PagedDocument(body: document.encoded(), itemCount: items.count, totalCount: totalCount, pages: pages, unchanged: unchanged)
    }
}
