/// The bridge's own topics under `<base>/bridge/`, as design.md's topic contract names them.
public struct BridgeTopics: Sendable, Hashable {
    public let base: String

    public init(base: String) {
        self.base = base
    }

    /// `online` / `offline`, retained; `offline` is also the last will.
    public var state: String { "\(base)/bridge/state" }
    /// Version, commit, uptime, broker and sources, retained.
    public var info: String { "\(base)/bridge/info" }
    /// Per-source health, retained.
    public var sources: String { "\(base)/bridge/sources" }
    /// Filter for every request: `<base>/bridge/request/<action>` (actions may contain `/`).
    public var requestFilter: String { "\(base)/bridge/request/#" }

    /// The action named by a request topic, or nil when the topic is not a request.
    public func action(fromRequestTopic topic: String) -> String? {
        let prefix = "\(base)/bridge/request/"
        guard topic.hasPrefix(prefix) else { return nil }
        let action = String(topic.dropFirst(prefix.count))
        return action.isEmpty ? nil : action
    }

    /// Where the answer to `action` goes.
    public func response(for action: String) -> String { "\(base)/bridge/response/\(action)" }
}
