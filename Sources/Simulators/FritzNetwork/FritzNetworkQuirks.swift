/// The real-server behaviours of the Fritz!Box network API (see `shared/apis/FIELD-NOTES.md`), switched
/// through ``FaultPlan/enable(_:)`` (for good) or ``FaultPlan/enable(_:times:)`` (for the next uses).
extension Quirk {
    /// `fetched_at` is malformed: `2026-02-13T14:00:00+00:00Z`.
    public static let fetchedAtMalformed = Quirk("fritz_network.fetchedAtMalformed")
    /// `fetched_at` is `null`.
    public static let fetchedAtNull = Quirk("fritz_network.fetchedAtNull")
    /// A 429 says `{"error": "Rate limit exceeded"}` (not RFC 9457) and has no `Retry-After`.
    public static let plainRateLimitError = Quirk("fritz_network.plainRateLimitError")
    /// `limit` outside 1...1000 is clamped instead of answered with 422 (newer servers).
    public static let clampedLimits = Quirk("fritz_network.clampedLimits")
    /// Clients marked ``FritzNetworkClient/hidesMAC`` are listed with an empty `mac`.
    public static let emptyMACs = Quirk("fritz_network.emptyMACs")
    /// `provider_type` is `null` in the aggregated `/api/v1/devices`.
    public static let nullProviderType = Quirk("fritz_network.nullProviderType")
    /// The router reboots at the next physics step (use `times: 1`): byte counters and WAN uptime
    /// return to 0, and every client is offline until it reconnects at the following step.
    public static let routerReboot = Quirk("fritz_network.routerReboot")
    /// An older server without the `/api/v1/fritzbox/` namespace: those paths answer 404.
    public static let noProviderNamespace = Quirk("fritz_network.noProviderNamespace")
}

extension FritzNetworkSimulator {
    /// The quirks a real server shows all the time (the `quirks: real` switch). The router reboot,
    /// `fetched_at: null` and the old server without `/api/v1/fritzbox/` are switched on by tests.
    public static let realServerQuirks: Set<Quirk> = [
        .fetchedAtMalformed, .plainRateLimitError, .clampedLimits, .emptyMACs, .nullProviderType,
    ]
}
