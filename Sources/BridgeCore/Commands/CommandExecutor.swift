/// What the command router needs from a source: run a mapped call or a named action, re-read
/// state afterwards, and say whether the source is reachable. Source adapters implement it
/// (through the supervisor); tests use fakes.
public protocol CommandExecutor: Sendable {
    /// Sends a call rendered from the mapping (`call:`), with the source's auth and rate budget,
    /// never retried blindly.
    /// - Returns: the HTTP status of the answer.
    func execute(_ call: RenderedCall) async throws(CommandFailure) -> Int?

    /// Runs a named adapter action (`action:`) with the validated value and, for child
    /// devices, the API's own id of the child.
    func perform(action: String, value: JSONValue, childKey: JSONValue?) async throws(CommandFailure) -> Int?

    /// Asks the source to re-read `endpoints` now, so the new state shows without waiting for
    /// the next poll. Empty means "whatever the source thinks is affected".
    func refresh(endpoints: Set<String>) async

    /// False while the source is offline: commands then fail fast with `source_unavailable`.
    var isAvailable: Bool { get async }
}

/// Why a command's call failed; rendered into the command result.
public struct CommandFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: CommandErrorCode
    public var message: String
    public var httpStatus: Int?

    public init(_ code: CommandErrorCode, _ message: String, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    public var description: String { message }
}

/// The distinct error codes a command result can carry (`error_code` in the result JSON).
public enum CommandErrorCode: String, Sendable, Hashable, CaseIterable {
    /// No configured source owns the device id in the topic.
    case unknownDevice = "unknown_device"
    /// The device has no command with that entity id.
    case unknownEntity = "unknown_entity"
    /// The payload could not be read (bad JSON on `<device>/set`, empty payload).
    case invalidPayload = "invalid_payload"
    /// The value failed the mapping's validation (type, range, options, pattern, length).
    case invalidValue = "invalid_value"
    /// The source is configured `read_only: true`.
    case readOnly = "read_only"
    /// The source is offline; nothing was sent.
    case sourceUnavailable = "source_unavailable"
    /// The source answered with an error, or the connection failed.
    case callFailed = "call_failed"
    /// No answer within the command timeout.
    case timeout
    /// The adapter does not implement the named action.
    case notSupported = "not_supported"
    /// A bug: logged with details at error level.
    case internalError = "internal_error"
    /// The bridge is stopping (SIGTERM): the command was not started and nothing was sent.
    case shuttingDown = "shutting_down"
}
