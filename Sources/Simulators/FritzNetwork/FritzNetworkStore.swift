import Foundation

/// The router's WAN side and its traffic counters.
public struct FritzNetworkWAN: Hashable, Sendable {
    /// The public address.
    public var externalIP: String
    /// Whether the internet connection is up (`is_connected`).
    public var isConnected: Bool
    /// Whether the DSL/cable line is synchronised (`is_linked`).
    public var isLinked: Bool
    /// Seconds since the connection came up (0 while down; back to 0 on reconnect and reboot).
    public var uptime: Int
    /// Line capacity up, bits per second.
    public var maxUpstream: Int
    /// Line capacity down, bits per second.
    public var maxDownstream: Int
    /// Current rate up, bits per second.
    public var upstream: Int
    /// Current rate down, bits per second.
    public var downstream: Int
    /// Bytes sent since the router booted.
    public var bytesSent: Int64
    /// Bytes received since the router booted.
    public var bytesReceived: Int64
}

/// What the API server last read from the router (its cache).
public struct FritzNetworkSnapshot: Hashable, Sendable {
    /// When it was read (`fetched_at`).
    public var fetchedAt: Date
    /// The clients as read then.
    public var clients: [FritzNetworkClient]
    /// The WAN side as read then.
    public var wan: FritzNetworkWAN
}

/// One sample of `/history/bandwidth`: traffic over the minute (or refresh) before `timestamp`.
struct FritzBandwidthSample: Hashable, Sendable {
    var timestamp: Int64
    var bytesSent: Int64
    var bytesReceived: Int64
    var upstreamRate: Int
    var downstreamRate: Int
}

/// One row of `/history/devices`.
struct FritzDeviceSample: Hashable, Sendable {
    var timestamp: Int64
    var client: FritzNetworkClient
}

/// One API key as the server stores it.
struct FritzAPIKey: Hashable, Sendable {
    var id: Int
    var name: String
    var key: String
    var createdAt: Date
    var lastUsedAt: Date?
    var isActive: Bool
}

/// The mutable state of a ``FritzNetworkSimulator``: simulated time, the router, the server's cache,
/// history, credentials and rate windows. Guarded by the simulator's mutex; never sleeps.
struct FritzNetworkStore: Sendable {
    static let bandwidthHistoryLimit = 7 * 24 * 60 + 2_000
    static let deviceHistoryLimit = 100_000

    let configuration: FritzNetworkSimulator.Configuration
    var random: SeededRandom
    var now: Date
    var nextStep: Date
    var nextRefresh: Date

    var clients: [FritzNetworkClient]
    /// Clients a test set on purpose: random comings and goings leave them alone.
    var pinned: Set<Int> = []
    var wan: FritzNetworkWAN
    var connectedSince: Date
    var routerReachable = true
    /// Clients offline after a reboot, back at the next step.
    var rebootedClients: Set<Int> = []
    var reboots = 0

    var cache: FritzNetworkSnapshot?
    var refreshes = 0
    var bandwidthHistory: [FritzBandwidthSample] = []
    var deviceHistory: [FritzDeviceSample] = []
    var lastSampleCounters: (sent: Int64, received: Int64)

    var tokens: [String: Date] = [:]
    var tokenCount = 0
    var apiKeys: [FritzAPIKey] = []
    var rateWindows: [String: [Date]] = [:]
    var forcedRateLimits = 0

    init(configuration: FritzNetworkSimulator.Configuration) {
        self.configuration = configuration
        var random = SeededRandom(seed: configuration.seed)
        let start = configuration.startDate ?? Date()
        now = start
        nextStep = start.addingTimeInterval(configuration.tickInterval.seconds)
        clients = configuration.clients
        let maxUp = 50_000_000, maxDown = 250_000_000
        wan = FritzNetworkWAN(
            externalIP: "93.219.\(Int.random(in: 1...254, using: &random)).\(Int.random(in: 1...254, using: &random))",
            isConnected: true, isLinked: true, uptime: 345_678, maxUpstream: maxUp, maxDownstream: maxDown,
            upstream: maxUp / 5, downstream: maxDown / 4,
            bytesSent: 45_678_901_234, bytesReceived: 123_456_789_012)
        connectedSince = start.addingTimeInterval(-345_678)
        lastSampleCounters = (wan.bytesSent, wan.bytesReceived)
        nextRefresh = start
        self.random = random
        for (index, key) in configuration.apiKeys.enumerated() {
            apiKeys.append(FritzAPIKey(id: index + 1, name: "preset-\(index + 1)", key: key, createdAt: start.addingTimeInterval(-86_400), lastUsedAt: nil, isActive: true))
        }
        seedBandwidthHistory()
        refresh()
    }

    // MARK: Time

    /// Moves simulated time to `target`, running the physics steps and cache refreshes due on the way.
    mutating func advance(to target: Date, faults: FaultPlan) {
        while true {
            let next = min(nextStep, nextRefresh)
            guard next <= target else { break }
            now = max(now, next)
            if nextStep <= now {
                step(seconds: configuration.tickInterval.seconds, faults: faults)
                nextStep = nextStep.addingTimeInterval(configuration.tickInterval.seconds)
            }
            if nextRefresh <= now { refresh() }
        }
        now = max(now, target)
        wan.uptime = wan.isConnected ? max(0, Int(now.timeIntervalSince(connectedSince))) : 0
    }

    /// One physics step of `seconds`: mobile clients come and go, rates move, counters grow.
    mutating func step(seconds: Double, faults: FaultPlan) {
        if faults.consume(.routerReboot) {
            rebootRouter()
            return
        }
        if !rebootedClients.isEmpty {
            for index in rebootedClients where clients.indices.contains(index) { clients[index].isOnline = true }
            rebootedClients.removeAll()
        }
        for index in clients.indices where clients[index].isMobile && !pinned.contains(index) {
            let leave = seconds / 1_800, arrive = seconds / 1_200
            if clients[index].isOnline ? random.chance(leave) : random.chance(arrive) {
                clients[index].isOnline.toggle()
            }
        }
        if wan.isConnected {
            wan.upstream = Self.walk(wan.upstream, maximum: wan.maxUpstream, random: &random)
            wan.downstream = Self.walk(wan.downstream, maximum: wan.maxDownstream, random: &random)
        } else {
            wan.upstream = 0
            wan.downstream = 0
        }
        wan.bytesSent += Int64(Double(wan.upstream) * seconds / 8)
        wan.bytesReceived += Int64(Double(wan.downstream) * seconds / 8)
    }

    /// A rate's random walk between 2 % and 95 % of the line's capacity.
    static func walk(_ rate: Int, maximum: Int, random: inout SeededRandom) -> Int {
        let next = Double(rate) + random.gaussian(standardDeviation: Double(maximum) * 0.08)
        return Int(min(Double(maximum) * 0.95, max(Double(maximum) * 0.02, next)).rounded())
    }

    /// The server reads the router (when reachable) and records history; the next refresh is 15–30 s later.
    mutating func refresh() {
        let range = configuration.refreshInterval
        let pause = random.uniform(range.lowerBound.seconds ... max(range.lowerBound.seconds, range.upperBound.seconds))
        nextRefresh = now.addingTimeInterval(max(0.001, pause))
        guard routerReachable else { return }
        wan.uptime = wan.isConnected ? max(0, Int(now.timeIntervalSince(connectedSince))) : 0
        cache = FritzNetworkSnapshot(fetchedAt: now, clients: clients, wan: wan)
        refreshes += 1
        let timestamp = Int64(now.timeIntervalSince1970)
        let sent = wan.bytesSent >= lastSampleCounters.sent ? wan.bytesSent - lastSampleCounters.sent : wan.bytesSent
        let received = wan.bytesReceived >= lastSampleCounters.received ? wan.bytesReceived - lastSampleCounters.received : wan.bytesReceived
        lastSampleCounters = (wan.bytesSent, wan.bytesReceived)
        bandwidthHistory.append(FritzBandwidthSample(
            timestamp: timestamp, bytesSent: sent, bytesReceived: received, upstreamRate: wan.upstream, downstreamRate: wan.downstream))
        if bandwidthHistory.count > Self.bandwidthHistoryLimit { bandwidthHistory.removeFirst(bandwidthHistory.count - Self.bandwidthHistoryLimit) }
        for client in clients { deviceHistory.append(FritzDeviceSample(timestamp: timestamp, client: client)) }
        if deviceHistory.count > Self.deviceHistoryLimit { deviceHistory.removeFirst(deviceHistory.count - Self.deviceHistoryLimit) }
    }

    /// A day of per-minute samples before the start, so history queries have data at once.
    private mutating func seedBandwidthHistory() {
        let start = Int64(now.timeIntervalSince1970) / 60 * 60
        for minute in stride(from: 24 * 60, to: 0, by: -1) {
            let up = Self.walk(wan.maxUpstream / 5, maximum: wan.maxUpstream, random: &random)
            let down = Self.walk(wan.maxDownstream / 4, maximum: wan.maxDownstream, random: &random)
            bandwidthHistory.append(FritzBandwidthSample(
                timestamp: start - Int64(minute) * 60, bytesSent: Int64(up) * 60 / 8, bytesReceived: Int64(down) * 60 / 8,
                upstreamRate: up, downstreamRate: down))
        }
    }

    // MARK: Events

    /// Reboot: counters and uptime back to 0, every client offline until the next step, a new
    /// external address, and a fresh cache once the server reads the router again.
    mutating func rebootRouter() {
        reboots += 1
        wan.bytesSent = 0
        wan.bytesReceived = 0
        wan.upstream = 0
        wan.downstream = 0
        connectedSince = now
        wan.uptime = 0
        wan.isConnected = true
        wan.isLinked = true
        wan.externalIP = "93.219.\(Int.random(in: 1...254, using: &random)).\(Int.random(in: 1...254, using: &random))"
        rebootedClients = Set(clients.indices.filter { clients[$0].isOnline })
        for index in rebootedClients { clients[index].isOnline = false }
        lastSampleCounters = (0, 0)
    }

    mutating func setConnected(_ connected: Bool) {
        guard connected != wan.isConnected else { return }
        wan.isConnected = connected
        if connected { connectedSince = now }
        wan.uptime = 0
        if !connected {
            wan.upstream = 0
            wan.downstream = 0
        }
    }

    // MARK: Rate limit

    /// Counts a request of `identity` at `now`; `false` when it is over the limit (not counted then).
    mutating func admit(_ identity: String) -> Bool {
        if forcedRateLimits > 0 {
            forcedRateLimits -= 1
            return false
        }
        let windowStart = now.addingTimeInterval(-60)
        var times = rateWindows[identity, default: []].filter { $0 > windowStart }
        guard times.count < configuration.rateLimit else {
            rateWindows[identity] = times
            return false
        }
        times.append(now)
        rateWindows[identity] = times
        return true
    }

    /// Seconds until `identity` may send again (at least 1).
    func retryAfter(_ identity: String) -> Int {
        guard let oldest = rateWindows[identity]?.first else { return 60 }
        return max(1, Int(oldest.addingTimeInterval(60).timeIntervalSince(now).rounded(.up)))
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
