/// The real-server behaviours of the OCPP CSMS (`shared/apis/FIELD-NOTES.md`, "OCPP CSMS") and the
/// command outcomes tests force, switched through ``FaultPlan/enable(_:)`` (for good) or
/// ``FaultPlan/enable(_:times:)`` (for the next uses).
extension Quirk {
    /// Only `Authorization: Bearer <token>` is accepted. Without it, the simulator is lenient the
    /// way the document reads: any scheme case (`bearer`) and a bare token are accepted too.
    public static let strictBearer = Quirk("ocpp_csms.strictBearer")
    /// An idle connector reports `current_transaction_id: -1` (the document says 0).
    public static let idleTransactionMinusOne = Quirk("ocpp_csms.idleTransactionMinusOne")
    /// Empty lists are sent as `null` (`/chp`, `/chp/{search}`, `/transactions/active`, `connectors`, …).
    public static let nullLists = Quirk("ocpp_csms.nullLists")
    /// An unknown charge point (`/point/{id}`) answers 400 instead of 404.
    public static let unknownPoint400 = Quirk("ocpp_csms.unknownPoint400")
    /// Numeric fields that are 0 are left out of WebSocket frames and meter values (Go `omitempty`).
    public static let omitZeroFields = Quirk("ocpp_csms.omitZeroFields")
    /// Every tick sends a `Heartbeat` charge point event for each online charge point (the real
    /// server's events "arrive every ~5 s"), not only events for changes.
    public static let periodicEvents = Quirk("ocpp_csms.periodicEvents")
    /// The next `/csc` commands (each use takes one) are answered `{"status": "Rejected"}` by the charger.
    public static let rejectCommands = Quirk("ocpp_csms.rejectCommands")
    /// The next `/csc` commands (each use takes one) fail in the CSMS: `status: error` with an `error` text.
    public static let commandErrors = Quirk("ocpp_csms.commandErrors")
}

extension OCPPCSMSSimulator {
    /// What the real server does all the time (the `quirks: real` switch): strict `Bearer`, idle
    /// transaction id -1, `null` lists, 400 for an unknown point, zero fields omitted, charge point
    /// events on every tick. The command
    /// outcomes (`rejectCommands`, `commandErrors`) are events a test switches on when it needs them.
    public static let realServerQuirks: Set<Quirk> = [
        .strictBearer, .idleTransactionMinusOne, .nullLists, .unknownPoint400, .omitZeroFields, .periodicEvents,
    ]
}
