/// The behaviours of the real FlowerHub portal that its API document does not describe (see the
/// "FlowerHub portal" section of `shared/apis/FIELD-NOTES.md`), switched through
/// ``FaultPlan/enable(_:)`` (for good) or ``FaultPlan/enable(_:times:)`` (for the next uses).
extension Quirk {
    /// `GET /auth/refresh-token` answers `{"user": {...}, "refreshTokenExpirationDate": ...}` (the
    /// login's shape) on every other refresh, and the documented top-level user on the others, so a
    /// run sees both shapes.
    public static let refreshWrapsUser = Quirk("flowerhub.refreshWrapsUser")
    /// Uptime lives only under `/asset-effective-uptime/...` (newer deployments): the documented
    /// `/asset-uptime/...` paths answer 404. Without it, only `/asset-uptime/...` exists.
    public static let effectiveUptimeOnly = Quirk("flowerhub.effectiveUptimeOnly")
    /// No `ETag` header on any answer, and `If-None-Match` is ignored (never a 304).
    public static let noETags = Quirk("flowerhub.noETags")
    /// Every ``FlowerHubSimulator/Configuration/rateLimitEvery``-th request is answered 429 with a
    /// `Retry-After` of ``FlowerHubSimulator/Configuration/rateLimitRetryAfter``; requests inside
    /// that window get 429 too.
    public static let periodicRateLimit = Quirk("flowerhub.periodicRateLimit")
    /// Requests without `Origin: https://portal.flowerhub.se` are refused with 403.
    public static let originRequired = Quirk("flowerhub.originRequired")
}

extension FlowerHubSimulator {
    /// The `Origin` the portal's own web app sends, which the real API expects.
    public static let portalOrigin = "https://portal.flowerhub.se"

    /// Everything the real portal does that the document does not say (the `quirks` switch):
    /// both refresh shapes, uptime under `/asset-effective-uptime/...` only, no ETags, a 429 with
    /// `Retry-After` every so often, and `Origin` required.
    public static let realPortalQuirks: Set<Quirk> = [
        .refreshWrapsUser, .effectiveUptimeOnly, .noETags, .periodicRateLimit, .originRequired,
    ]
}
