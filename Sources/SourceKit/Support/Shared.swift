import Synchronization

/// A `Mutex` that can be shared by reference between tasks (a `Mutex` itself cannot be
/// copied or captured by an escaping closure).
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    /// Wraps an initial value.
    init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<Result: Sendable>(_ body: (inout sending Value) throws -> sending Result) rethrows -> sending Result {
        try mutex.withLock(body)
    }

    /// The current value.
    var value: Value { mutex.withLock { $0 } }
}
