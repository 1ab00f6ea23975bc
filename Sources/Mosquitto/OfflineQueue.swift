/// A bounded FIFO of publishes made while the broker is unreachable.
///
/// libmosquitto would queue QoS ≥ 1 publishes itself, without a limit, and report
/// `MOSQ_ERR_NO_CONN` although it queued them. We keep them here instead so the bound and
/// the accounting are ours: when full, the oldest element is dropped and counted.
struct OfflineQueue<Element> {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0
    /// Maximum number of elements; 0 means nothing is queued (every push drops immediately).
    let limit: Int

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    var isEmpty: Bool { count == 0 }

    /// Appends an element.
    /// - Returns: the element that had to be dropped to respect the limit (the oldest one,
    ///   or `element` itself when the limit is 0), or nil when nothing was dropped.
    mutating func push(_ element: Element) -> Element? {
        if limit == 0 { return element }
        var dropped: Element?
        if count == limit { dropped = popFirst() }
        storage.append(element)
        count += 1
        return dropped
    }

    /// Removes and returns the oldest element.
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        count -= 1
        if head > 64 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Removes the first element matching `predicate` (used when a waiting publisher is cancelled).
    mutating func remove(where predicate: (Element) -> Bool) -> Element? {
        guard let index = storage[head...].firstIndex(where: { $0.map(predicate) ?? false }) else { return nil }
        let element = storage.remove(at: index)
        count -= 1
        return element
    }

    /// Removes and returns everything, oldest first.
    mutating func drain() -> [Element] {
        let elements = storage[head...].compactMap { $0 }
        storage.removeAll()
        head = 0
        count = 0
        return elements
    }
}
