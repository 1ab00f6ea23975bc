import BridgeCore
import Foundation

/// The mutable state of an ``OCPPCSMSSimulator``, guarded by its mutex: charge points, sessions,
/// accounts and tokens, the simulated clock and the physics of a tick.
///
/// Mutations that the WebSocket clients should hear about append to ``outbox``; the device
/// broadcasts it after leaving the lock.
struct OCPPCSMSStore: Sendable {
    /// An OCPP 1.6 connector status.
    static let connectorStatuses: Set<String> = [
        "Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved", "Unavailable", "Faulted",
    ]
    /// Finished transactions kept.
    static let historyLimit = 1_000
    /// Log entries kept (`/log/{name}`).
    static let logLimit = 200

    let configuration: OCPPCSMSSimulator.Configuration
    var chargePoints: [OCPPCSMSChargePoint]
    var index: [String: Int] = [:]
    var transactions: [Int: OCPPCSMSTransaction] = [:]
    var transactionOrder: [Int] = []
    var nextTransactionID = 1_001
    var random: SeededRandom
    var users: [OCPPCSMSSimulator.User]
    /// The current token of each account, by username; a password login replaces it.
    var tokens: [String: String] = [:]
    var ticks = 0
    let startDate: Date
    /// Bumped on every change a `/chp` answer shows (its rendering is cached per revision).
    var revision = 0
    var chargePointsCache: (key: Int, bytes: [UInt8])?
    var log: [LogEntry] = []
    var outbox: [StreamMessage] = []
    /// The rendering quirks in force, set from the fault plan before every use of the store.
    var flags = RenderFlags()
    /// Whether any WebSocket is open (meter value frames are rendered only then).
    var hasListeners = false

    /// The quirks that change how documents are rendered.
    struct RenderFlags: Sendable, Hashable {
        var omitZeroFields = false
        var nullLists = false
        var idleTransactionMinusOne = false
        var periodicEvents = false

        init() {}

        init(_ faults: FaultPlan) {
            omitZeroFields = faults.isEnabled(.omitZeroFields)
            nullLists = faults.isEnabled(.nullLists)
            idleTransactionMinusOne = faults.isEnabled(.idleTransactionMinusOne)
            periodicEvents = faults.isEnabled(.periodicEvents)
        }

        var key: Int { (omitZeroFields ? 1 : 0) + (nullLists ? 2 : 0) + (idleTransactionMinusOne ? 4 : 0) }
    }

    /// One `/log` entry.
    struct LogEntry: Sendable {
        var time: Date
        var level: String
        var text: String
    }

    init(configuration: OCPPCSMSSimulator.Configuration) {
        self.configuration = configuration
        var random = SeededRandom(seed: configuration.seed)
        let start = configuration.startDate ?? Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        self.startDate = start
        let points = configuration.chargePoints.map { spec in
            OCPPCSMSChargePoint(spec: spec, now: start) { _ in Int(random.uniform(150_000...4_500_000)) }
        }
        var index: [String: Int] = [:]
        for (position, point) in points.enumerated() { index[point.id] = position }
        self.chargePoints = points
        self.index = index
        self.random = random
        self.users = configuration.users
    }

    // MARK: Clock

    var now: Date {
        startDate.addingTimeInterval(Double(ticks) * stepSeconds)
    }

    var stepSeconds: Double {
        let step = configuration.simulatedStep.components
        return Double(step.seconds) + Double(step.attoseconds) / 1e18
    }

    // MARK: Accounts

    /// `POST /users/authenticate`: a password login issues a new token for the account (replacing
    /// its previous one); a token login (no username) answers with the same token.
    mutating func authenticate(username: String?, password: String) -> OCPPCSMSSimulator.User? {
        if let username, !username.isEmpty {
            guard let user = users.first(where: { $0.username == username && $0.password == password }) else { return nil }
            tokens[user.username] = newToken()
            return user
        }
        guard !password.isEmpty, let owner = tokens.first(where: { $0.value == password })?.key else { return nil }
        return users.first { $0.username == owner }
    }

    /// The account whose current token is `token`.
    func user(token: String) -> OCPPCSMSSimulator.User? {
        guard !token.isEmpty, let owner = tokens.first(where: { $0.value == token })?.key else { return nil }
        return users.first { $0.username == owner }
    }

    mutating func newToken() -> String {
        (0..<5).map { _ in String(random.next() & 0xFFFF_FFFF, radix: 16).leftPadded(to: 8) }.joined()
    }

    // MARK: Lookup

    func chargePoint(_ id: String) -> OCPPCSMSChargePoint? {
        index[id].map { chargePoints[$0] }
    }

    func activeTransactions(tags: [String]? = nil) -> [OCPPCSMSTransaction] {
        var result: [OCPPCSMSTransaction] = []
        for point in chargePoints {
            for connector in point.connectors {
                guard let id = connector.transactionID, let transaction = transactions[id] else { continue }
                if let tags, !tags.contains(transaction.idTag) { continue }
                result.append(transaction)
            }
        }
        return result
    }

    /// The account's transactions (by its id tags), newest first.
    func transactions(tags: [String]) -> [OCPPCSMSTransaction] {
        transactionOrder.reversed().compactMap { transactions[$0] }.filter { tags.contains($0.idTag) }
    }

    var snapshot: OCPPCSMSState {
        OCPPCSMSState(
            chargePoints: chargePoints, transactions: transactionOrder.compactMap { transactions[$0] }, now: now, ticks: ticks,
            openStreams: 0)
    }

    // MARK: Tick

    /// Advances the simulation by one step: reboots finish, pending starts begin, sessions draw
    /// power (tapering above 80 %), full cars unplug, finishing connectors become available.
    mutating func tick() {
        ticks += 1
        var changed = false
        for position in chargePoints.indices {
            if chargePoints[position].rebootTicksLeft > 0 {
                chargePoints[position].rebootTicksLeft -= 1
                if chargePoints[position].rebootTicksLeft == 0 { boot(position) }
                changed = true
                continue
            }
            guard chargePoints[position].isOnline else { continue }
            for slot in chargePoints[position].connectors.indices {
                changed = advance(position, slot) || changed
            }
        }
        if changed { revision += 1 }
        if hasListeners {
            for transaction in activeTransactions() { outbox.append(meterFrame(transaction)) }
            if flags.periodicEvents {
                for position in chargePoints.indices where chargePoints[position].isOnline {
                    chargePointEvent(position, "Heartbeat", connector: nil)
                }
            }
        }
    }

    /// One connector's tick; returns whether anything a charge point document shows changed.
    private mutating func advance(_ position: Int, _ slot: Int) -> Bool {
        var connector = chargePoints[position].connectors[slot]
        defer { chargePoints[position].connectors[slot] = connector }
        if connector.finishingTicksLeft > 0 {
            connector.finishingTicksLeft -= 1
            if connector.finishingTicksLeft == 0 {
                setStatus(&connector, connector.isInoperative ? "Unavailable" : "Available", point: position)
            }
            return true
        }
        if var pending = connector.pendingStart {
            pending.ticksLeft -= 1
            connector.pendingStart = pending
            if pending.ticksLeft <= 0 {
                chargePoints[position].connectors[slot] = connector
                begin(position, slot, idTag: pending.idTag, stateOfCharge: nil)
                connector = chargePoints[position].connectors[slot]
            }
            return true
        }
        guard let id = connector.transactionID, var transaction = transactions[id] else { return false }
        var changed = false
        if transaction.stateOfCharge >= 100 {
            transaction.power = 0
            transaction.fullTicks += 1
            if connector.status != "SuspendedEV" {
                setStatus(&connector, "SuspendedEV", point: position)
                changed = true
            }
            transactions[id] = transaction
            if transaction.fullTicks >= 3 {
                chargePoints[position].connectors[slot] = connector
                finish(id, reason: "EVDisconnected")
                connector = chargePoints[position].connectors[slot]
                return true
            }
        } else {
            let available = min(Double(connector.ratedPower), transaction.carMaximumPower)
            let taper = transaction.stateOfCharge < 80 ? 1 : max(0.05, (100 - transaction.stateOfCharge) / 20)
            let power = (available * taper * random.uniform(0.97...1.0)).rounded()
            let energy = power * stepSeconds / 3_600
            transaction.consumedEnergy += energy
            transaction.stateOfCharge = min(100, transaction.stateOfCharge + energy / transaction.batteryCapacity * 100)
            transaction.power = Int(power)
            if connector.status != "Charging" {
                setStatus(&connector, "Charging", point: position)
                changed = true
            }
        }
        connector.energyRegister = max(connector.energyRegister, transaction.meterNow)
        recordMeterValue(&transaction, status: connector.status)
        transactions[id] = transaction
        return changed
    }

    private mutating func recordMeterValue(_ transaction: inout OCPPCSMSTransaction, status: String) {
        let minute = Int(now.timeIntervalSince(transaction.timeStart) / 60)
        if let last = transaction.meterValues.last, last.minute == minute { return }
        transaction.meterValues.append(
            OCPPCSMSTransaction.MeterValue(
                value: transaction.meterNow, powerRate: transaction.power, batteryLevel: Int(transaction.stateOfCharge),
                consumedEnergy: transaction.consumed, price: price(transaction), time: now, minute: minute, connectorStatus: status))
        if transaction.meterValues.count > 60 { transaction.meterValues.removeFirst(transaction.meterValues.count - 60) }
    }

    func price(_ transaction: OCPPCSMSTransaction) -> Int {
        Int((transaction.consumedEnergy / 1_000 * Double(configuration.pricePerKWh)).rounded())
    }

    // MARK: Sessions

    /// Starts a transaction on a connector now (a car plugged in and authorised).
    @discardableResult
    mutating func begin(_ position: Int, _ slot: Int, idTag: String, stateOfCharge: Double?) -> Int {
        let id = nextTransactionID
        nextTransactionID += 1
        let connector = chargePoints[position].connectors[slot]
        let isDC = connector.ratedPower > 22_000
        let carMaximum = isDC ? random.uniform(40_000...120_000) : [7_400.0, 11_000, 22_000][Int(random.next() % 3)]
        let transaction = OCPPCSMSTransaction(
            id: id, chargePointID: connector.chargePointID, connectorID: connector.id, idTag: idTag,
            meterStart: connector.energyRegister, consumedEnergy: 0, power: 0,
            stateOfCharge: stateOfCharge ?? random.uniform(15...60), batteryCapacity: random.uniform(40_000...82_000),
            carMaximumPower: carMaximum, timeStart: now)
        transactions[id] = transaction
        transactionOrder.append(id)
        var updated = connector
        updated.transactionID = id
        updated.pendingStart = nil
        updated.finishingTicksLeft = 0
        setStatus(&updated, "Charging", point: position)
        chargePoints[position].connectors[slot] = updated
        addLog("info", "\(connector.chargePointID): transaction \(id) started on connector \(connector.id) by \(idTag)")
        revision += 1
        return id
    }

    /// Ends an active transaction: the connector goes `Finishing` for a tick, then `Available`.
    mutating func finish(_ id: Int, reason: String) {
        guard var transaction = transactions[id], !transaction.isFinished else { return }
        transaction.timeStop = now
        transaction.reason = reason
        transaction.power = 0
        transactions[id] = transaction
        if let position = index[transaction.chargePointID],
            let slot = chargePoints[position].connectors.firstIndex(where: { $0.id == transaction.connectorID })
        {
            var connector = chargePoints[position].connectors[slot]
            connector.transactionID = nil
            connector.energyRegister = max(connector.energyRegister, transaction.meterNow)
            connector.finishingTicksLeft = 1
            setStatus(&connector, "Finishing", point: position)
            chargePoints[position].connectors[slot] = connector
        }
        outbox.append(
            StreamMessage(
                event: "transaction:\(id)",
                data: frame(status: "success", stage: "stop", info: "Transaction stopped: \(id)", fields: ["id": .number(Double(id))])))
        addLog("info", "\(transaction.chargePointID): transaction \(id) stopped (\(reason))")
        trimHistory()
        revision += 1
    }

    private mutating func trimHistory() {
        let finished = transactionOrder.filter { transactions[$0]?.isFinished ?? false }
        guard finished.count > Self.historyLimit else { return }
        let drop = Set(finished.prefix(finished.count - Self.historyLimit))
        transactionOrder.removeAll { drop.contains($0) }
        for id in drop { transactions[id] = nil }
    }

    /// Sets a connector's status, stamps it and tells the `ListenChargePoints` listeners.
    mutating func setStatus(_ connector: inout OCPPCSMSConnector, _ status: String, point position: Int) {
        connector.status = status
        connector.statusTime = now
        chargePoints[position].eventTime = now
        chargePointEvent(position, "StatusNotification", connector: connector)
    }

    // MARK: Charge point state

    /// Takes a charge point off the CSMS (or back); statuses are kept while offline, as the CSMS last heard them.
    mutating func setOnline(_ position: Int, _ online: Bool) {
        guard chargePoints[position].isOnline != online else { return }
        chargePoints[position].isOnline = online
        chargePoints[position].eventTime = now
        chargePoints[position].statusTime = now
        chargePointEvent(position, online ? "BootNotification" : "Disconnected", connector: nil)
        addLog(online ? "info" : "warning", "\(chargePoints[position].id): \(online ? "connected" : "disconnected")")
        revision += 1
    }

    /// A reset: sessions stop, the charge point goes offline for the reset ticks, then boots.
    mutating func reset(_ position: Int, hard: Bool) {
        for connector in chargePoints[position].connectors {
            if let id = connector.transactionID { finish(id, reason: hard ? "HardReset" : "SoftReset") }
        }
        for slot in chargePoints[position].connectors.indices {
            chargePoints[position].connectors[slot].pendingStart = nil
            chargePoints[position].connectors[slot].finishingTicksLeft = 0
        }
        chargePoints[position].rebootTicksLeft = configuration.resetTicks * (hard ? 2 : 1)
        setOnline(position, false)
        chargePoints[position].status = "Unavailable"
        revision += 1
    }

    /// The end of a reboot: online again, idle connectors available.
    private mutating func boot(_ position: Int) {
        chargePoints[position].status = "Available"
        setOnline(position, true)
        for slot in chargePoints[position].connectors.indices {
            var connector = chargePoints[position].connectors[slot]
            connector.finishingTicksLeft = 0
            setStatus(&connector, connector.isInoperative ? "Unavailable" : "Available", point: position)
            chargePoints[position].connectors[slot] = connector
        }
    }

    mutating func addLog(_ level: String, _ text: String) {
        let entry = LogEntry(time: now, level: level, text: text)
        log.append(entry)
        if log.count > Self.logLimit { log.removeFirst(log.count - Self.logLimit) }
        outbox.append(
            StreamMessage(event: "log", data: frame(status: "event", stage: "log-event", info: "\(level): \(text)", fields: [:])))
    }

    mutating func drainOutbox() -> [StreamMessage] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }
}

extension String {
    /// This string with leading zeros up to `width` characters.
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
