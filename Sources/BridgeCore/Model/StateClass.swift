/// How Home Assistant keeps long-term statistics of a sensor.
public enum StateClass: String, Sendable, Hashable, CaseIterable, Codable {
    /// A value at this moment: power, voltage, temperature.
    case measurement
    /// An angle at this moment, in degrees (wind direction).
    case measurementAngle = "measurement_angle"
    /// An amount that can go up and down: net energy, cost.
    case total
    /// A counter that only grows except at a reset: imported energy.
    case totalIncreasing = "total_increasing"
}
