import Synchronization

/// Remembers the last document and `ETag` of each URL, for conditional GETs.
///
/// ``SourceHTTPClient`` sends `If-None-Match` when it holds a document for the URL; a
/// `304 Not Modified` answer is turned back into that document, flagged
/// ``SourceResponse/unchanged``. The cache is bounded by entry count (least recently used
/// goes first) and by document size.
public final class ETagCache: Sendable {
    /// A cached document.
    public struct Entry: Sendable {
        /// The validator the server sent.
        public var etag: String
        /// The document's status, headers and body.
        public var response: SourceResponse
    }

    private struct Storage {
        var entries: [String: Entry] = [:]
        var order: [String] = []
    }

    /// Maximum number of URLs remembered.
    public let capacity: Int
    /// Documents larger than this many bytes are not cached.
    public let maxDocumentSize: Int
    private let storage = Mutex(Storage())

    /// Creates an empty cache.
    public init(capacity: Int = 128, maxDocumentSize: Int = 4 << 20) {
        self.capacity = max(1, capacity)
        self.maxDocumentSize = maxDocumentSize
    }

    /// The number of cached documents.
    public var count: Int { storage.withLock { $0.entries.count } }

    /// The cached document for `url`, marking it recently used.
    public func entry(for url: String) -> Entry? {
        storage.withLock { storage in
            guard let entry = storage.entries[url] else { return nil }
            touch(url, in: &storage)
            return entry
        }
    }

    /// Remembers `response` for `url` when it is a 200 with an `ETag`; forgets the URL otherwise.
    public func update(url: String, with response: SourceResponse) {
        guard response.status == 200, let etag = response.header("ETag"), !etag.isEmpty,
            response.body.count <= maxDocumentSize
        else {
            if response.status == 200 { remove(url: url) }
            return
        }
        var stored = response
        stored.unchanged = false
        storage.withLock { storage in
            storage.entries[url] = Entry(etag: etag, response: stored)
            touch(url, in: &storage)
            while storage.order.count > capacity {
                let evicted = storage.order.removeFirst()
                storage.entries[evicted] = nil
            }
        }
    }

    /// Forgets the document of `url`.
    public func remove(url: String) {
        storage.withLock { storage in
            storage.entries[url] = nil
            storage.order.removeAll { $0 == url }
        }
    }

    /// Forgets everything.
    public func removeAll() {
        storage.withLock { $0 = Storage() }
    }

    private func touch(_ url: String, in storage: inout Storage) {
        if let index = storage.order.firstIndex(of: url) {
            storage.order.remove(at: index)
        }
        storage.order.append(url)
    }
}
