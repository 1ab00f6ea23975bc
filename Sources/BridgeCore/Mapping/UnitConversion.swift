/// Conversions between units of one quantity, for the `convert` transform.
///
/// Only units Home Assistant knows are listed; a conversion across quantities (W to Wh) is
/// not possible and the linter rejects it.
public enum UnitConversion {
    /// Each quantity's units with their size in the quantity's base unit.
    static let groups: [[String: Double]] = [
        ["mW": 0.001, "W": 1, "kW": 1_000, "MW": 1_000_000, "GW": 1e9],
        ["mWh": 0.001, "Wh": 1, "kWh": 1_000, "MWh": 1_000_000, "GWh": 1e9, "J": 1.0 / 3_600, "kJ": 1.0 / 3.6,
         "MJ": 1_000 / 3.6, "GJ": 1_000_000 / 3.6],
        ["µV": 0.000_001, "mV": 0.001, "V": 1, "kV": 1_000, "MV": 1_000_000],
        ["µA": 0.000_001, "mA": 0.001, "A": 1],
        ["mvar": 0.001, "var": 1, "kvar": 1_000],
        ["varh": 1, "kvarh": 1_000],
        ["mVA": 0.001, "VA": 1, "kVA": 1_000],
        ["ms": 0.001, "s": 1, "min": 60, "h": 3_600, "d": 86_400],
        ["bit/s": 1, "kbit/s": 1_000, "Mbit/s": 1_000_000, "Gbit/s": 1e9, "B/s": 8, "kB/s": 8_000, "MB/s": 8_000_000,
         "GB/s": 8e9, "KiB/s": 8_192, "MiB/s": 8_388_608, "GiB/s": 8_589_934_592],
        ["bit": 1, "kbit": 1_000, "Mbit": 1_000_000, "Gbit": 1e9, "B": 8, "kB": 8_000, "MB": 8_000_000, "GB": 8e9,
         "TB": 8e12, "KiB": 8_192, "MiB": 8_388_608, "GiB": 8_589_934_592, "TiB": 8_796_093_022_208],
        ["mHz": 0.001, "Hz": 1, "kHz": 1_000, "MHz": 1_000_000, "GHz": 1e9],
        ["mm": 0.001, "cm": 0.01, "m": 1, "km": 1_000],
        ["mL": 0.001, "L": 1, "m³": 1_000],
        ["Pa": 1, "hPa": 100, "kPa": 1_000, "mbar": 100, "bar": 100_000],
        ["%": 1],
    ]

    /// The temperature units, converted through kelvin.
    static let temperatures: Set<String> = ["°C", "°F", "K"]

    /// Whether `from` can be converted to `to`.
    public static func canConvert(from: String, to: String) -> Bool {
        convert(1, from: from, to: to) != nil
    }

    /// `value` in `from` expressed in `to`, or `nil` when the units are unknown or measure
    /// different quantities.
    public static func convert(_ value: Double, from: String, to: String) -> Double? {
        if from == to { return value }
        if temperatures.contains(from), temperatures.contains(to) {
            return fromKelvin(toKelvin(value, from), to)
        }
        guard let group = groups.first(where: { $0[from] != nil && $0[to] != nil }),
            let fromSize = group[from], let toSize = group[to]
        else { return nil }
        return ValueTransform.multiply(value, by: fromSize / toSize)
    }

    private static func toKelvin(_ value: Double, _ unit: String) -> Double {
        switch unit {
        case "°C": value + 273.15
        case "°F": (value - 32) * 5 / 9 + 273.15
        default: value
        }
    }

    private static func fromKelvin(_ value: Double, _ unit: String) -> Double {
        switch unit {
        case "°C": value - 273.15
        case "°F": (value - 273.15) * 9 / 5 + 32
        default: value
        }
    }
}
