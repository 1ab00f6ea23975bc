import Foundation

/// What a ``FlowerHubSimulator`` holds right now, and its counters, for tests to compare with what
/// a bridge published and how it talked to the portal.
public struct FlowerHubState: Sendable {
    /// The simulated clock.
    public var now: Date
    /// `flowerHubStatus.status` (`Connected`, `Disconnected`, ...).
    public var status: String
    /// `flowerHubStatus.message`.
    public var statusMessage: String
    /// How often the simulation dropped the system to `Disconnected` by itself.
    public var disconnections: Int
    /// This month, `YYYY-MM`.
    public var month: String
    /// This month's seconds connected and disconnected.
    public var uptimeSeconds: Double
    public var downtimeSeconds: Double
    /// This month's uptime ratio in percent, as the bar chart's last entry says.
    public var uptimePercent: Double
    /// This month's consumption so far, kWh (the `Calculated` reading, before rounding).
    public var consumption: Double
    /// The latest invoice's `total_amount`, as sent.
    public var latestInvoiceAmount: String?
    /// How many invoices exist (the invoice list shows the last twelve).
    public var invoiceCount: Int
    /// Accepted logins, and refused ones (bad body or wrong credentials).
    public var logins: Int
    public var failedLogins: Int
    /// Accepted refreshes, and refused ones (missing or expired `Refresh` cookie).
    public var refreshes: Int
    public var failedRefreshes: Int
    /// 401s for a missing or expired `Authentication` cookie.
    public var unauthorizedRequests: Int
    /// 304 answers.
    public var notModifiedResponses: Int
    /// 429 answers.
    public var rateLimitedResponses: Int
    /// Requests that arrived while a 429's `Retry-After` had not passed yet (each got 429 again).
    public var requestsWhileRateLimited: Int

    init(_ store: FlowerHubStore) {
        now = store.now
        let status = store.status
        self.status = status.status
        statusMessage = status.message
        disconnections = store.disconnections
        month = store.month.value
        uptimeSeconds = store.uptime
        downtimeSeconds = store.downtime
        uptimePercent = store.currentUptimePercent
        consumption = store.consumption
        latestInvoiceAmount = store.history.last.map { FlowerHubStore.amount($0.invoiceAmount) }
        invoiceCount = store.history.count
        logins = store.logins
        failedLogins = store.failedLogins
        refreshes = store.refreshes
        failedRefreshes = store.failedRefreshes
        unauthorizedRequests = store.unauthorized
        notModifiedResponses = store.notModified
        rateLimitedResponses = store.rateLimited
        requestsWhileRateLimited = store.requestsWhileRateLimited
    }
}
