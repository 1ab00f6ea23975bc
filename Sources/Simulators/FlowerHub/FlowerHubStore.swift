import Foundation

/// The simulated battery system and its account: the physics that advance per tick, the month
/// history, and the session tokens. Guarded by the portal's mutex.
struct FlowerHubStore: Sendable {
    /// One finished month: its uptime ratio, consumption and invoice.
    struct MonthRecord: Sendable {
        var month: FlowerHubMonth
        var uptimePercent: Double
        /// Seconds (uptime, downtime, no data).
        var uptime: Double
        var downtime: Double
        var noData: Double
        /// kWh.
        var consumption: Double
        /// SEK, incl. VAT.
        var invoiceAmount: Double
        var invoiceId: Int
    }

    static let statusMessages = (
        connected: "FlowerHub is connected and operating normally",
        disconnected: "FlowerHub has lost its connection to the battery system"
    )

    var random: SeededRandom
    /// The simulated clock.
    var now: Date
    let startDate: Date

    // The battery system
    var connected = true
    var statusOverride: (status: String, message: String)?
    var disconnections = 0

    // This month
    var month: FlowerHubMonth
    var uptime: Double = 0
    var downtime: Double = 0
    var noData: Double
    var consumption: Double = 0

    /// Finished months, oldest first.
    var history: [MonthRecord] = []
    var nextInvoiceId = 880_001

    // Sessions: token → expiry (simulated time).
    var accessTokens: [String: Date] = [:]
    var refreshTokens: [String: Date] = [:]
    var tokenCounter = 0

    // Counters
    var logins = 0
    var failedLogins = 0
    var refreshes = 0
    var failedRefreshes = 0
    var unauthorized = 0
    var notModified = 0
    var rateLimited = 0
    var requestsWhileRateLimited = 0
    var requestCounter = 0
    /// The end of the current 429 window, as time since the start (see ``FlowerHubSimulator/Configuration/TimeMode``).
    var rateLimitedUntil: Duration?
    var forcedRateLimit: Duration?

    init(seed: UInt64, startDate: Date) {
        self.random = SeededRandom(seed: seed)
        self.now = startDate
        self.startDate = startDate
        self.month = FlowerHubMonth(containing: startDate)
        // The simulator "starts measuring" at its start date: earlier seconds of the month have no data.
        self.noData = max(0, startDate.timeIntervalSince(month.start))
        seedHistory()
    }

    /// Past months from March 2025 (the first month with uptime data) up to the start month.
    private mutating func seedHistory() {
        let first = min(FlowerHubMonth.firstUptimeMonth, month)
        for past in first.through(month.previous) where past < month {
            let choices: [Double] = [100, 100, 100, 99, 99, 98, 97, 92]
            let percent: Double = choices.randomElement(using: &random) ?? 100
            let total = past.seconds
            let consumption = (random.uniform(250...900) * 100).rounded() / 100
            appendRecord(month: past, uptime: total * percent / 100, downtime: total * (100 - percent) / 100, noData: 0, consumption: consumption, percent: percent)
        }
    }

    private mutating func appendRecord(month: FlowerHubMonth, uptime: Double, downtime: Double, noData: Double, consumption: Double, percent: Double) {
        // Spot price + grid fee per kWh, a monthly fee, minus the battery compensation.
        let amount = ((consumption * random.uniform(1.1...1.9) + 49 - random.uniform(80...160)) * 100).rounded() / 100
        history.append(
            MonthRecord(
                month: month, uptimePercent: percent, uptime: uptime.rounded(), downtime: downtime.rounded(),
                noData: noData.rounded(), consumption: consumption, invoiceAmount: amount, invoiceId: nextInvoiceId))
        nextInvoiceId += 1
    }

    // MARK: Physics

    /// Advances the simulated clock by `duration`, in steps of at most a minute.
    mutating func advance(by duration: Duration) {
        var remaining = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        while remaining > 0 {
            let step = min(remaining, 60)
            self.step(seconds: step)
            remaining -= step
        }
    }

    private mutating func step(seconds: Double) {
        var seconds = seconds
        // Split a step at a month boundary, so each month gets its own seconds.
        let boundary = month.next.start.timeIntervalSince(now)
        if seconds >= boundary {
            accumulate(seconds: boundary)
            now = month.next.start
            closeMonth()
            seconds -= boundary
        }
        accumulate(seconds: seconds)
        now = now.addingTimeInterval(seconds)
    }

    private mutating func accumulate(seconds: Double) {
        guard seconds > 0 else { return }
        if isConnected { uptime += seconds } else { downtime += seconds }
        // A household draws 0.2–2 kW, about 0.8 kW on average.
        let kilowatts = min(2, max(0.2, 0.8 + random.gaussian(standardDeviation: 0.3)))
        consumption += kilowatts * seconds / 3_600
        // About one drop every 12 hours, lasting about 10 minutes.
        if statusOverride == nil {
            if connected, random.chance(seconds / 43_200) {
                connected = false
                disconnections += 1
            } else if !connected, random.chance(seconds / 600) {
                connected = true
            }
        }
    }

    private mutating func closeMonth() {
        let measured = uptime + downtime
        let percent = measured > 0 ? (uptime / measured * 10_000).rounded() / 100 : 0
        appendRecord(month: month, uptime: uptime, downtime: downtime, noData: noData, consumption: (consumption * 100).rounded() / 100, percent: percent)
        month = month.next
        uptime = 0
        downtime = 0
        noData = 0
        consumption = 0
    }

    /// Simulated time since the start.
    var elapsed: Duration {
        .milliseconds(Int64((now.timeIntervalSince(startDate) * 1000).rounded()))
    }

    // MARK: Status

    var isConnected: Bool {
        if let statusOverride { return statusOverride.status == "Connected" }
        return connected
    }

    var status: (status: String, message: String) {
        if let statusOverride { return statusOverride }
        return connected ? ("Connected", Self.statusMessages.connected) : ("Disconnected", Self.statusMessages.disconnected)
    }

    /// This month's uptime ratio in percent (two decimals), 100 before anything was measured.
    var currentUptimePercent: Double {
        let measured = uptime + downtime
        return measured > 0 ? (uptime / measured * 10_000).rounded() / 100 : 100
    }

    // MARK: Sessions

    /// A new JWT-shaped token (`header.payload.signature`) for `kind`, expiring at `expiry`.
    mutating func makeToken(kind: String, userId: Int, expiry: Date) -> String {
        tokenCounter += 1
        let header = Self.base64URL(#"{"alg":"HS256","typ":"JWT"}"#)
        let payload = Self.base64URL(
            #"{"sub":\#(userId),"typ":"\#(kind)","jti":\#(tokenCounter),"iat":\#(Int(now.timeIntervalSince1970)),"exp":\#(Int(expiry.timeIntervalSince1970))}"#)
        let signature = (0..<4).map { _ in String(random.next(), radix: 16) }.joined()
        return "\(header).\(payload).\(signature)"
    }

    func isValid(access token: String?) -> Bool {
        guard let token, let expiry = accessTokens[token] else { return false }
        return expiry > now
    }

    func isValid(refresh token: String?) -> Bool {
        guard let token, let expiry = refreshTokens[token] else { return false }
        return expiry > now
    }

    private static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
