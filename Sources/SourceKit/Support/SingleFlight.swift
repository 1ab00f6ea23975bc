import Synchronization

/// Runs one operation at a time and lets concurrent callers share its result.
///
/// Used for logins: when five requests find the token expired together, one login is sent
/// and all five wait for it. The operation runs in its own task, so a caller that is
/// cancelled does not abort a login the others are waiting for.
final class SingleFlight<Value: Sendable>: Sendable {
    private let inFlight = Mutex<Task<Result<Value, SourceError>, Never>?>(nil)

    /// Joins the running operation, or starts `operation` when none runs.
    func run(_ operation: @escaping @Sendable () async -> Result<Value, SourceError>) async throws(SourceError) -> Value {
        let task = inFlight.withLock { current in
            if let current { return current }
            let task = Task {
                let result = await operation()
                // Only this task can be in flight now, so clearing unconditionally is safe.
                self.inFlight.withLock { $0 = nil }
                return result
            }
            current = task
            return task
        }
        return try await task.value.get()
    }
}
