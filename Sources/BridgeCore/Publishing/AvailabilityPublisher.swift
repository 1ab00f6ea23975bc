import Logging

/// Publishes `<base>/<device>/availability` (`online`/`offline`, retained) from source health.
/// Home Assistant shows a device available only while both this and `<base>/bridge/state` say
/// `online` (discovery uses `availability_mode: all`), so a dead bridge never leaves devices
/// looking alive: its last will covers them all.
///
/// A held publisher (the bridge's, until its command subscriptions are in place) records
/// availability but publishes none until ``open()``: a device shown `online` takes commands, so
/// an automation that sends one as soon as it sees `online` is not dropped by a broker that has
/// no command subscription yet.
public actor AvailabilityPublisher {
    private let context: DiscoveryContext
    private let broker: any BrokerConnection
    private let logger: Logger
    private var states: [String: Bool] = [:]
    private var held: Bool

    public init(context: DiscoveryContext, broker: any BrokerConnection, heldUntilOpened: Bool = false, logger: Logger) {
        self.context = context
        self.broker = broker
        self.held = heldUntilOpened
        self.logger = logger
    }

    /// Ends the hold: every availability recorded so far goes out, later ones as they change.
    public func open() {
        guard held else { return }
        held = false
        republishAll()
    }

    /// Sets a device's availability; publishes only when it changes.
    public func set(_ deviceID: String, online: Bool) {
        guard states[deviceID] != online else { return }
        states[deviceID] = online
        guard !held else { return }
        send(deviceID, online: online)
    }

    /// The last availability set for a device.
    public func isOnline(_ deviceID: String) -> Bool? { states[deviceID] }

    /// Forgets a device and clears its retained availability (a removed child device).
    public func remove(_ deviceID: String) {
        guard states.removeValue(forKey: deviceID) != nil else { return }
        do {
            try broker.enqueue(OutboundMessage(topic: context.availabilityTopic(deviceID), payload: [], qos: 1, retain: true))
        } catch {
            logger.warning("Could not clear availability", metadata: ["device.id": "\(deviceID)", "error": "\(error)"])
        }
    }

    /// Publishes every known availability again (after a reconnect).
    public func republishAll() {
        guard !held else { return }
        for (deviceID, online) in states.sorted(by: { $0.key < $1.key }) { send(deviceID, online: online) }
    }

    private func send(_ deviceID: String, online: Bool) {
        do {
            try broker.enqueue(
                OutboundMessage(
                    topic: context.availabilityTopic(deviceID), string: online ? "online" : "offline", qos: 1, retain: true))
        } catch {
            logger.warning("Could not publish availability", metadata: ["device.id": "\(deviceID)", "error": "\(error)"])
        }
    }
}
