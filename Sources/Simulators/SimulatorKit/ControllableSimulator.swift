/// What every device simulator offers a test, the demo or `api2mqtt simulate`: start and stop
/// on a kept port, go down abruptly, reboot, and a fault plan to switch faults and quirks.
public protocol ControllableSimulator: AnyObject, Sendable {
    /// Starts serving (again, on the same port) and returns the port.
    @discardableResult func start() async throws -> Int
    /// Stops gracefully; the port stays reserved for ``start()``.
    func stop() async
    /// "Down": drops the server at once until ``start()`` or ``restart()``.
    func stopAbruptly() async
    /// A device reboot: stops gracefully and starts again on the same port.
    @discardableResult func restart() async throws -> Int
    /// Faults and quirks, switchable at run time.
    var faults: FaultPlan { get }
}

extension CozifyHANSimulator: ControllableSimulator {}
extension OCPPCSMSSimulator: ControllableSimulator {}
extension FlowerHubSimulator: ControllableSimulator {}
extension FritzNetworkSimulator: ControllableSimulator {}

/// A fault named as `api2mqtt simulate` reads it from its control input.
extension Fault {
    /// `500`, `503`, `timeout`, `slow:2`, `malformed`, `unauthorized`, `drop`; nil for anything else.
    public init?(controlWord word: some StringProtocol) {
        switch word {
        case "timeout": self = .timeout
        case "malformed": self = .malformedJSON
        case "unauthorized": self = .unauthorized
        case "drop": self = .dropStreams
        default:
            if let status = Int(word), (400...599).contains(status) {
                self = .httpError(status)
            } else if word.hasPrefix("slow:"), let seconds = Int(word.dropFirst(5)), seconds >= 0 {
                self = .slow(.seconds(seconds))
            } else {
                return nil
            }
        }
    }
}
