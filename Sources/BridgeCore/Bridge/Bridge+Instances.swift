import Logging
import Synchronization

/// Several instances on one broker (design.md "Scale-out"): each needs its own `mqtt.base_topic`,
/// which is its namespace (its `bridge/…` topics, devices, commands, the `unique_id`s and the
/// discovery entries its stale cleanup may remove). Two instances sharing one cannot be told
/// apart on the broker, so the bridge watches `<base>/bridge/info` for another client id and,
/// once it has seen one, logs the misconfiguration, removes no stale discovery and leaves
/// commands to devices it does not own unanswered.
extension Bridge {
    /// Handles a `<base>/bridge/info` message (ours, or another instance's).
    func noteInstanceInfo(_ message: InboundMessage) async {
        guard !message.payload.isEmpty, let info = try? JSONValue.parse(message.payload),
            let clientID = info["client_id"]?.stringValue, clientID != configuration.mqtt.clientID
        else { return }
        let live = !message.retain
        let (firstSeen, firstLive) = foreignInstances.withLock { seen -> (Bool, Bool) in
            let before = seen[clientID]
            seen[clientID] = (before ?? false) || live
            return (before == nil, live && before != true)
        }
        guard firstSeen || firstLive else { return }
        logger.error(
            "Another bridge instance publishes under this base topic: give each instance its own mqtt.base_topic",
            metadata: [
                "other.client_id": "\(LogText.escaped(clientID, limit: 64))", "mqtt.base_topic": "\(topics.base)",
                "seen": "\(live ? "live" : "its retained bridge/info (it may be this bridge's former client id; clear it with an empty retained message)")",
                "meanwhile": "no stale discovery is removed; commands to devices this bridge does not own are left unanswered",
            ])
        await router.setSharesBase()
        // Let the other instance see a live one too (it may have missed our retained info).
        if live, broker.isConnected { await publishInfo() }
    }

    /// Whether another instance has been seen under this base topic.
    var sharesBaseTopic: Bool { foreignInstances.withLock { !$0.isEmpty } }
}
