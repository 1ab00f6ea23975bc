import Synchronization

/// Collects values from server handlers, for assertions in tests.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    init() {}

    func append(_ value: Value) {
        values.withLock { $0.append(value) }
    }

    var all: [Value] { values.withLock { $0 } }

    var count: Int { values.withLock { $0.count } }
}
