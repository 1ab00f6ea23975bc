import Foundation

/// Deterministic, physically consistent three-phase meter data for the Cozify HAN simulator.
///
/// A household load per phase (a slow random walk plus appliance spikes) and a three-phase solar
/// inverter feed each phase; the net power decides whether the phase imports or exports. So:
/// - a phase never imports and exports at once (`pi[k]` and `pe[k]` are never both non-zero);
/// - the totals are netted across phases as the meter does (`pi[0] - pe[0]` is the sum of the phases' net
///   powers), and the cumulative registers integrate the totals, so they never go backwards;
/// - voltages stay within 221–244 V (sagging under import, rising under export);
/// - currents are the apparent power over the voltage, `I = √(P² + Q²) / U`, with a power factor of 0.92–0.995.
///
/// Every telegram advances meter time by ``meterStep`` (the meter's 10 s cadence), however fast the
/// simulator sends them, so fast tests still see realistic energy growth. Equal seeds give equal data.
public struct CozifyHANDataGenerator: Sendable {
    /// Meter time between two telegrams, used to integrate the energy registers.
    public let meterStep: Duration

    private var random: SeededRandom
    private var baseLoad: [Double]
    private var spikePower: [Double]
    private var spikeSteps: [Int]
    private var solar: Double
    private var powerFactor: [Double]
    private var voltageOffset: [Double]

    /// Active energy imported so far, kWh (unrounded).
    public private(set) var importEnergy: Double
    /// Active energy exported so far, kWh (unrounded).
    public private(set) var exportEnergy: Double
    /// Reactive energy imported so far, kVArh (unrounded).
    public private(set) var reactiveImportEnergy: Double
    /// Reactive energy exported so far, kVArh (unrounded).
    public private(set) var reactiveExportEnergy: Double

    /// Creates a generator.
    /// - Parameters:
    ///   - seed: Equal seeds give equal telegrams.
    ///   - meterStep: Meter time per telegram.
    ///   - importEnergy: Initial import register, kWh.
    ///   - exportEnergy: Initial export register, kWh.
    public init(seed: UInt64 = 1, meterStep: Duration = .seconds(10), importEnergy: Double = 12_345.678, exportEnergy: Double = 1_234.567) {
        var random = SeededRandom(seed: seed)
        self.meterStep = meterStep
        self.baseLoad = (0..<3).map { _ in random.uniform(150...900) }
        self.spikePower = [0, 0, 0]
        self.spikeSteps = [0, 0, 0]
        self.solar = random.uniform(0...4_000)
        self.powerFactor = (0..<3).map { _ in random.uniform(0.93...0.99) }
        self.voltageOffset = (0..<3).map { _ in random.uniform(-2...2) }
        self.importEnergy = importEnergy
        self.exportEnergy = exportEnergy
        self.reactiveImportEnergy = importEnergy / 5
        self.reactiveExportEnergy = exportEnergy / 5
        self.random = random
    }

    /// Advances the meter by ``meterStep`` and returns its telegram, stamped with `timestamp`.
    public mutating func next(timestamp: Int64) -> CozifyHANTelegram {
        advanceProcesses()
        var pi = [0.0, 0, 0, 0], pe = [0.0, 0, 0, 0], ri = [0.0, 0, 0, 0], re = [0.0, 0, 0, 0]
        var u = [0.0, 0, 0], i = [0.0, 0, 0]
        for phase in 0..<3 {
            let net = baseLoad[phase] + spikePower[phase] - solar / 3
            let active = abs(net).rounded()
            let reactive = (active * tan(acos(powerFactor[phase]))).rounded()
            let voltage = Self.round((231 + voltageOffset[phase] - net * 0.0008).clamped(to: 221...244), places: 1)
            u[phase] = voltage
            i[phase] = Self.round((active * active + reactive * reactive).squareRoot() / voltage, places: 2)
            if net > 0 {
                pi[phase + 1] = active
                ri[phase + 1] = reactive
            } else {
                pe[phase + 1] = active
                re[phase + 1] = reactive
            }
        }
        let netActive = (1...3).reduce(0.0) { $0 + pi[$1] - pe[$1] }
        let netReactive = (1...3).reduce(0.0) { $0 + ri[$1] - re[$1] }
        pi[0] = max(netActive, 0)
        pe[0] = max(-netActive, 0)
        ri[0] = max(netReactive, 0)
        re[0] = max(-netReactive, 0)

        let hours = Double(meterStep.components.seconds) / 3_600 + Double(meterStep.components.attoseconds) / 3.6e21
        importEnergy += pi[0] * hours / 1_000
        exportEnergy += pe[0] * hours / 1_000
        reactiveImportEnergy += ri[0] * hours / 1_000
        reactiveExportEnergy += re[0] * hours / 1_000

        return CozifyHANTelegram(
            ts: timestamp,
            ic: Self.round(importEnergy, places: 3),
            ec: Self.round(exportEnergy, places: 3),
            ric: Self.round(reactiveImportEnergy, places: 3),
            rec: Self.round(reactiveExportEnergy, places: 3),
            p: (0...3).map { pi[$0] - pe[$0] },
            pi: pi,
            pe: pe,
            r: (0...3).map { ri[$0] - re[$0] },
            ri: ri,
            re: re,
            u: u,
            i: i
        )
    }

    private mutating func advanceProcesses() {
        for phase in 0..<3 {
            baseLoad[phase] = (baseLoad[phase] + random.gaussian(standardDeviation: 60)).clamped(to: 60...3_500)
            if spikeSteps[phase] > 0 {
                spikeSteps[phase] -= 1
                if spikeSteps[phase] == 0 { spikePower[phase] = 0 }
            } else if random.chance(0.03) {
                spikePower[phase] = random.uniform(1_000...2_500)
                spikeSteps[phase] = Int(random.uniform(3...30))
            }
            powerFactor[phase] = (powerFactor[phase] + random.gaussian(standardDeviation: 0.005)).clamped(to: 0.92...0.995)
            voltageOffset[phase] = (voltageOffset[phase] + random.gaussian(standardDeviation: 0.3)).clamped(to: -4...4)
        }
        solar = (solar + random.gaussian(standardDeviation: 250)).clamped(to: 0...9_000)
    }

    private static func round(_ value: Double, places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}

extension Comparable {
    /// `self` limited to `range`.
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
