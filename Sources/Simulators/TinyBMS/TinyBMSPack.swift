import Foundation

/// A 16S LiFePO4 pack that behaves physically, advanced in simulated seconds by ``step(seconds:)``.
///
/// - The current follows a seeded load profile (charge and discharge phases of 30 s to 5 min,
///   reversed near full and near empty); positive current charges.
/// - SOC integrates the current over a 100 Ah capacity; energy charged/discharged and the
///   cycle count integrate too.
/// - Each cell is the open-circuit voltage of the SOC plus the IR drop plus its own offset (a
///   few mV, widening near full) plus noise; cells above 3.4 V that are above the lowest cell
///   balance while charging, which slowly pulls them down.
/// - The temperature approaches ambient plus I²-heating with a time constant of minutes.
///
/// Test hooks hold the current, the temperature or one cell at a forced value.
struct TinyBMSPack: Sendable {
    static let cellCount = 16
    static let capacityAh = 100.0
    /// Internal resistance per cell, in ohms.
    static let cellResistance = 0.0008
    static let ambient = 24.0
    static let balancingThreshold = 3.40

    var random: SeededRandom
    var soc: Double
    var soh = 98.0
    var current = 0.0
    var targetCurrent: Double
    var secondsUntilNewTarget: Double
    var temperature = ambient
    var cellOffsets: [Double]
    var cellVoltages: [Double]
    var balancing: [Bool]
    var chargedWh = 0.0
    var dischargedWh = 0.0
    var dischargedAh = 0.0
    var baseCycles: Int
    var heldCurrent: Double?
    var heldTemperature: Double?
    var heldCells: [Int: Double] = [:]

    init(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        soc = 55 + random.uniform(-10...10)
        targetCurrent = random.uniform(-20...15)
        secondsUntilNewTarget = random.uniform(30...300)
        cellOffsets = (0..<Self.cellCount).map { _ in max(-0.008, min(0.008, random.gaussian(standardDeviation: 0.003))) }
        baseCycles = Int(random.uniform(20...200))
        self.random = random
        cellVoltages = Array(repeating: 3.3, count: Self.cellCount)
        balancing = Array(repeating: false, count: Self.cellCount)
        current = targetCurrent
        updateCells(seconds: 0)
    }

    /// The open-circuit voltage of a LiFePO4 cell at `soc` percent (piecewise linear, the flat plateau
    /// between 20 and 90 %).
    static func openCircuitVoltage(soc: Double) -> Double {
        let curve: [(Double, Double)] = [
            (0, 2.50), (5, 3.00), (10, 3.20), (20, 3.25), (40, 3.28), (60, 3.30), (80, 3.33), (90, 3.35), (95, 3.38),
            (99, 3.45), (100, 3.55),
        ]
        let soc = max(0, min(100, soc))
        for index in 1..<curve.count where soc <= curve[index].0 {
            let (x0, y0) = curve[index - 1], (x1, y1) = curve[index]
            return y0 + (y1 - y0) * (soc - x0) / (x1 - x0)
        }
        return curve[curve.count - 1].1
    }

    /// Advances the pack by `seconds` of simulated time.
    mutating func step(seconds dt: Double) {
        guard dt > 0 else { return }
        secondsUntilNewTarget -= dt
        if secondsUntilNewTarget <= 0 {
            targetCurrent = random.chance(0.45) ? random.uniform(3...25) : -random.uniform(3...35)
            secondsUntilNewTarget = random.uniform(30...300)
        }
        if soc > 98, targetCurrent > 0 { targetCurrent = -random.uniform(5...30) }
        if soc < 15, targetCurrent < 0 { targetCurrent = random.uniform(5...25) }
        if let heldCurrent {
            current = heldCurrent
        } else {
            current += (targetCurrent - current) * min(1, dt / 5) + random.gaussian(standardDeviation: 0.15)
        }

        soc = max(0, min(100, soc + current * dt / 3600 / Self.capacityAh * 100))
        let power = packVoltage * current
        if power > 0 { chargedWh += power * dt / 3600 } else { dischargedWh += -power * dt / 3600 }
        if current < 0 { dischargedAh += -current * dt / 3600 }

        if let heldTemperature {
            temperature = heldTemperature
        } else {
            let equilibrium = Self.ambient + 0.005 * current * current
            temperature += (equilibrium - temperature) * min(1, dt / 600) + random.gaussian(standardDeviation: 0.01)
        }
        updateCells(seconds: dt)
    }

    private mutating func updateCells(seconds dt: Double) {
        let ocv = Self.openCircuitVoltage(soc: soc)
        // Cells drift apart at the top of the curve, where a small SOC difference is a large voltage one.
        let spread = 1 + 1.5 * max(0, soc - 90) / 10
        var voltages = (0..<Self.cellCount).map { index in
            ocv + current * Self.cellResistance + cellOffsets[index] * spread + random.gaussian(standardDeviation: 0.0005)
        }
        for (index, volts) in heldCells where voltages.indices.contains(index) { voltages[index] = volts }
        let lowest = voltages.min() ?? ocv
        let charging = current > 0.5
        balancing = voltages.map { charging && $0 >= Self.balancingThreshold && $0 > lowest + 0.005 }
        for index in 0..<Self.cellCount where balancing[index] {
            // The bleed resistor takes ~20 µV/s off a balancing cell's lead.
            cellOffsets[index] -= 0.00002 * dt
        }
        cellVoltages = voltages
    }

    var packVoltage: Double { cellVoltages.reduce(0, +) }
    var power: Double { packVoltage * current }
    var minCell: Double { cellVoltages.min() ?? 0 }
    var maxCell: Double { cellVoltages.max() ?? 0 }
    var cycleCount: Int { baseCycles + Int(dischargedAh / Self.capacityAh) }

    /// `CHARGING`, `DISCHARGING` or `IDLE` (|I| ≤ 0.5 A).
    var status: String {
        if current > 0.5 { return "CHARGING" }
        if current < -0.5 { return "DISCHARGING" }
        return "IDLE"
    }

    /// The protection flags of the telemetry (`protection`), from the cell and pack limits.
    var protection: Protection {
        Protection(
            ov: maxCell > 3.65, uv: minCell < 2.5, ocCharge: current > 100, ocDischarge: current < -150,
            tempHigh: temperature > 60, tempLow: temperature < 0)
    }

    struct Protection: Sendable, Hashable {
        var ov, uv, ocCharge, ocDischarge, tempHigh, tempLow: Bool

        /// The flags as the deployed firmware's `alarm_bits` (bit 0 ov … bit 5 temp_low).
        var bits: Int {
            [ov, uv, ocCharge, ocDischarge, tempHigh, tempLow].enumerated().reduce(0) { $0 | ($1.element ? 1 << $1.offset : 0) }
        }
    }

    /// The near-limit flags as the deployed firmware's `warning_bits` (bit 0 cell high, 1 cell low,
    /// 2 temperature high, 3 temperature low).
    var warningBits: Int {
        [maxCell > 3.55, minCell < 2.9, temperature > 45, temperature < 5].enumerated()
            .reduce(0) { $0 | ($1.element ? 1 << $1.offset : 0) }
    }
}
