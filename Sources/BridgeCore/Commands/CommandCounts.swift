/// What happened to the commands a router received: every one is answered once, so at exit
/// `received == answered + notPublished + unaddressed` (nothing is pending any more).
public struct CommandCounts: Sendable, Hashable, CustomStringConvertible {
    /// Commands taken from MQTT: one per entity of a `<device>/set` object, one per refused message.
    public var received = 0
    /// Results handed to the broker client, by outcome.
    public var ok = 0
    public var shuttingDown = 0
    public var failed = 0
    /// Results that could not be handed to the broker client (it had stopped, or refused them).
    public var notPublished = 0
    /// Refusals with nowhere to answer (no device id in the topic and no MQTT 5 response topic):
    /// a log line only, by design.
    public var unaddressed = 0
    /// Retained commands ignored (no result, by design).
    public var ignoredRetained = 0
    /// Commands to devices this bridge does not own, left unanswered because another instance
    /// shares the base topic (they may be the other's); not counted in ``received``.
    public var leftToOtherInstance = 0
    /// Calls that ended after the shutdown deadline had answered them (`timeout`): their outcome
    /// was logged and dropped, never published as a second result.
    public var lateOutcomes = 0

    public init() {}

    /// Results handed to the broker client.
    public var answered: Int { ok + shuttingDown + failed }
    /// Commands without an outcome yet (waiting or running).
    public var pending: Int { received - answered - notPublished - unaddressed }

    mutating func count(_ code: CommandErrorCode?, published: Bool, addressed: Bool) {
        guard addressed else {
            unaddressed += 1
            return
        }
        guard published else {
            notPublished += 1
            return
        }
        switch code {
        case nil: ok += 1
        case .shuttingDown?: shuttingDown += 1
        default: failed += 1
        }
    }

    public var description: String {
        "\(received) received, \(answered) answered (\(ok) ok, \(shuttingDown) shutting_down, \(failed) other errors), "
            + "\(notPublished) not published, \(unaddressed) with nowhere to answer, \(pending) pending, "
            + "\(ignoredRetained) retained ignored, \(lateOutcomes) late outcomes dropped, "
            + "\(leftToOtherInstance) left to another instance"
    }
}
