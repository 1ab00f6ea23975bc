/// Which MQTT 5 response topics the bridge answers on.
///
/// A response topic is the requester's choice, so it must not let a client make the bridge
/// write where only the bridge writes: nothing inside `<base>/` (its state, info, device state,
/// command and result topics) or the Home Assistant discovery prefix (discovery and
/// `homeassistant/status`), no `$` topics, and nothing a broker would refuse (wildcards, NUL,
/// empty, longer than ``maxLength`` bytes). A refused response topic gets no message; the
/// result still goes where it always goes, and the refusal is logged.
public struct ResponseTopic: Sendable, Hashable {
    /// The longest response topic answered on, in UTF-8 bytes.
    public static let maxLength = 1_024

    public let base: String
    public let discoveryPrefix: String?

    public init(base: String, discoveryPrefix: String?) {
        self.base = base
        self.discoveryPrefix = discoveryPrefix
    }

    /// Why `topic` is refused, or nil when the bridge may answer on it.
    public func refusal(of topic: String) -> String? {
        if topic.isEmpty { return "it is empty" }
        if topic.utf8.count > Self.maxLength { return "it is longer than \(Self.maxLength) bytes" }
        if topic.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") || $0 == 0 }) {
            return "it holds a wildcard or NUL"
        }
        if topic.hasPrefix("$") { return "it is a $ topic" }
        if Self.isInside(topic, base) { return "it is inside the bridge's topic tree '\(base)/'" }
        if let discoveryPrefix, Self.isInside(topic, discoveryPrefix) {
            return "it is inside the discovery prefix '\(discoveryPrefix)/'"
        }
        return nil
    }

    private static func isInside(_ topic: String, _ root: String) -> Bool {
        topic == root || topic.hasPrefix(root + "/")
    }
}
