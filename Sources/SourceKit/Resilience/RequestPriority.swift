/// How urgent a request is, for the rate budget.
public enum RequestPriority: Sendable, Hashable, CustomStringConvertible {
    /// A user's command: may use the budget's reserve, so polling never starves it.
    case command
    /// Polling, stream connects, paging: leaves the reserve alone.
    case poll

    /// `command` or `poll`.
    public var description: String {
        switch self {
        case .command: "command"
        case .poll: "poll"
        }
    }
}
