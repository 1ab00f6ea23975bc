/// A `HanMeterMessage` of the Cozify HAN API: one electricity meter telegram as `/meter`, SSE and
/// WebSocket deliver it. Property names are the wire names.
///
/// Arrays of powers hold the total first, then phases 1–3; `u` and `i` hold phases 1–3 only.
public struct CozifyHANTelegram: Codable, Hashable, Sendable {
    /// Always `HAN_METER_MESSAGE`.
    public var type: String
    /// When the reader received the telegram: Unix milliseconds (seconds with the `timestampsInSeconds` quirk).
    public var ts: Int64
    /// Cumulative active energy imported, kWh.
    public var ic: Double
    /// Cumulative active energy exported, kWh.
    public var ec: Double
    /// Cumulative reactive energy imported, kVArh.
    public var ric: Double
    /// Cumulative reactive energy exported, kVArh.
    public var rec: Double
    /// Deprecated net active power, W (import positive, export negative): total, L1, L2, L3.
    public var p: [Double]
    /// Active power imported, W: total, L1, L2, L3.
    public var pi: [Double]
    /// Active power exported, W: total, L1, L2, L3.
    public var pe: [Double]
    /// Deprecated net reactive power, VAr: total, L1, L2, L3.
    public var r: [Double]
    /// Reactive power imported, VAr: total, L1, L2, L3.
    public var ri: [Double]
    /// Reactive power exported, VAr: total, L1, L2, L3.
    public var re: [Double]
    /// Voltage, V: L1, L2, L3.
    public var u: [Double]
    /// Current, A: L1, L2, L3.
    public var i: [Double]

    /// The message discriminator.
    public static let messageType = "HAN_METER_MESSAGE"

    /// Creates a telegram.
    public init(
        ts: Int64,
        ic: Double, ec: Double, ric: Double, rec: Double,
        p: [Double], pi: [Double], pe: [Double],
        r: [Double], ri: [Double], re: [Double],
        u: [Double], i: [Double]
    ) {
        self.type = Self.messageType
        self.ts = ts
        self.ic = ic
        self.ec = ec
        self.ric = ric
        self.rec = rec
        self.p = p
        self.pi = pi
        self.pe = pe
        self.r = r
        self.ri = ri
        self.re = re
        self.u = u
        self.i = i
    }

    /// This telegram as a meter on a lost bus reports it: every voltage, current and power is 0;
    /// the cumulative registers keep their values.
    public func withBusLoss() -> CozifyHANTelegram {
        var copy = self
        copy.p = [0, 0, 0, 0]
        copy.pi = [0, 0, 0, 0]
        copy.pe = [0, 0, 0, 0]
        copy.r = [0, 0, 0, 0]
        copy.ri = [0, 0, 0, 0]
        copy.re = [0, 0, 0, 0]
        copy.u = [0, 0, 0]
        copy.i = [0, 0, 0]
        return copy
    }

    /// This telegram with the energy glitch some meters show: every cumulative register reads 0.
    public func withEnergyGlitch() -> CozifyHANTelegram {
        var copy = self
        copy.ic = 0
        copy.ec = 0
        copy.ric = 0
        copy.rec = 0
        return copy
    }
}
