/// The one table of what Home Assistant accepts for each device class, and the defaults a
/// mapping gets when it names only the device class.
///
/// Reflects Home Assistant 2025.10: `homeassistant/components/sensor/const.py`
/// (`DEVICE_CLASS_UNITS`, `DEVICE_CLASS_STATE_CLASSES`, `STATE_CLASS_UNITS`,
/// `NON_NUMERIC_DEVICE_CLASSES`), the MQTT sensor's discovery validation
/// (`mqtt/sensor.py`: a unit outside `DEVICE_CLASS_UNITS` or `options` on a non-enum sensor
/// rejects the whole payload), and the device class enums of binary_sensor, button, switch,
/// event and update. Units added only in later releases (µA, mvar, mVA) are left out, so a
/// mapping that lints clean is accepted by 2025.x installations too.
///
/// Defaults follow zigbee2mqtt's `NUMERIC_DISCOVERY_LOOKUP` idea: `device_class: power`
/// implies `unit: W` and `state_class: measurement` unless the file says otherwise.
public enum DeviceClassTable {
    /// What Home Assistant accepts for a sensor (and number) device class.
    public struct Rule: Sendable, Hashable {
        /// Which units the device class allows.
        public enum Units: Sendable, Hashable {
            /// No unit at all (aqi, ph, enum, timestamp, date).
            case none
            /// One of these; `optional` when no unit is accepted too (power_factor).
            case oneOf([String], optional: Bool)
            /// An ISO 4217 currency code (monetary).
            case currency
        }

        /// Which units the device class allows.
        public let units: Units
        /// The state classes it allows; empty for non-numeric classes.
        public let stateClasses: Set<StateClass>
        /// The unit a mapping gets when it gives none.
        public let defaultUnit: String?
        /// The state class a sensor gets when it gives none.
        public let defaultStateClass: StateClass?
        /// Whether the value is a number (not enum, timestamp or date).
        public let isNumeric: Bool

        /// The allowed units, or an empty list when any currency / no unit is allowed.
        public var allowedUnits: [String] {
            if case .oneOf(let units, _) = units { return units }
            return []
        }

        /// Whether `unit` (or no unit, for `nil`) is accepted.
        public func accepts(unit: String?) -> Bool {
            switch (units, unit) {
            case (.none, nil): true
            case (.none, _?): false
            case (.oneOf(_, let optional), nil): optional
            case (.oneOf(let units, _), let unit?): units.contains(unit)
            case (.currency, nil): false
            case (.currency, let unit?): DeviceClassTable.isCurrency(unit)
            }
        }
    }

    private static let measurement: Set<StateClass> = [.measurement]
    private static let totals: Set<StateClass> = [.total, .totalIncreasing]
    private static let any: Set<StateClass> = [.measurement, .total, .totalIncreasing]

    private static let energyUnits = ["J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", "Gcal"]
    private static let pressureUnits = ["Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"]
    private static let volumeUnits = ["L", "mL", "gal", "fl. oz.", "m³", "ft³", "CCF"]
    private static let speedUnits = ["Beaufort", "ft/s", "km/h", "kn", "m/s", "mph"]
    private static let fluxUnits = ["in/d", "in/h", "mm/d", "mm/h"]
    private static let microgramsPerCubicMetre = ["µg/m³"]

    /// Builds a numeric rule; the default state class is the only allowed one unless given.
    private static func numeric(
        _ units: [String],
        _ stateClasses: Set<StateClass>,
        unit defaultUnit: String? = nil,
        state defaultState: StateClass? = nil,
        unitOptional: Bool = false
    ) -> Rule {
        Rule(
            units: .oneOf(units, optional: unitOptional),
            stateClasses: stateClasses,
            defaultUnit: defaultUnit ?? (units.count == 1 ? units[0] : nil),
            defaultStateClass: defaultState ?? (stateClasses.count == 1 ? stateClasses.first : nil),
            isNumeric: true
        )
    }

    private static let unitless = Rule(units: .none, stateClasses: [.measurement], defaultUnit: nil, defaultStateClass: .measurement, isNumeric: true)
    private static let nonNumeric = Rule(units: .none, stateClasses: [], defaultUnit: nil, defaultStateClass: nil, isNumeric: false)

    /// Sensor device classes (number controls share the units).
    public static let sensor: [String: Rule] = [
        "apparent_power": numeric(["VA", "kVA"], measurement, unit: "VA"),
        "aqi": unitless,
        "area": numeric(["m²", "cm²", "km²", "mm²", "in²", "ft²", "yd²", "mi²", "ac", "ha"], any),
        "atmospheric_pressure": numeric(pressureUnits, measurement, unit: "hPa"),
        "battery": numeric(["%"], measurement),
        "blood_glucose_concentration": numeric(["mg/dL", "mmol/L"], measurement),
        "carbon_dioxide": numeric(["ppm"], measurement),
        "carbon_monoxide": numeric(["ppm"], measurement),
        "conductivity": numeric(["S/cm", "mS/cm", "µS/cm"], measurement),
        "current": numeric(["A", "mA"], measurement, unit: "A"),
        "data_rate": numeric(
            ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "GB/s", "KiB/s", "MiB/s", "GiB/s"],
            measurement,
            unit: "bit/s"
        ),
        "data_size": numeric(
            ["bit", "kbit", "Mbit", "Gbit", "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB",
             "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"],
            any,
            unit: "B"
        ),
        "date": nonNumeric,
        "distance": numeric(["km", "m", "cm", "mm", "mi", "nmi", "yd", "ft", "in"], any, unit: "m"),
        "duration": numeric(["d", "h", "min", "s", "ms"], any, unit: "s"),
        "energy": numeric(energyUnits, totals, unit: "kWh", state: .totalIncreasing),
        "energy_distance": numeric(["kWh/100km", "Wh/km", "mi/kWh", "km/kWh"], measurement),
        "energy_storage": numeric(energyUnits, measurement, unit: "kWh"),
        "enum": nonNumeric,
        "frequency": numeric(["Hz", "kHz", "MHz", "GHz"], measurement, unit: "Hz"),
        "gas": numeric(["m³", "ft³", "CCF"], totals, unit: "m³", state: .totalIncreasing),
        "humidity": numeric(["%"], measurement),
        "illuminance": numeric(["lx"], measurement),
        "irradiance": numeric(["W/m²", "BTU/(h⋅ft²)"], measurement, unit: "W/m²"),
        "moisture": numeric(["%"], measurement),
        "monetary": Rule(units: .currency, stateClasses: [.total], defaultUnit: nil, defaultStateClass: .total, isNumeric: true),
        "nitrogen_dioxide": numeric(microgramsPerCubicMetre, measurement),
        "nitrogen_monoxide": numeric(microgramsPerCubicMetre, measurement),
        "nitrous_oxide": numeric(microgramsPerCubicMetre, measurement),
        "ozone": numeric(microgramsPerCubicMetre, measurement),
        "ph": unitless,
        "pm1": numeric(microgramsPerCubicMetre, measurement),
        "pm10": numeric(microgramsPerCubicMetre, measurement),
        "pm25": numeric(microgramsPerCubicMetre, measurement),
        "power": numeric(["mW", "W", "kW", "MW", "GW", "TW"], measurement, unit: "W"),
        "power_factor": numeric(["%"], measurement, unitOptional: true),
        "precipitation": numeric(["cm", "in", "mm"], any, unit: "mm"),
        "precipitation_intensity": numeric(fluxUnits, measurement, unit: "mm/h"),
        "pressure": numeric(pressureUnits, measurement, unit: "hPa"),
        "reactive_energy": numeric(["varh", "kvarh"], totals, unit: "kvarh", state: .totalIncreasing),
        "reactive_power": numeric(["var", "kvar"], measurement, unit: "var"),
        "signal_strength": numeric(["dB", "dBm"], measurement, unit: "dBm"),
        "sound_pressure": numeric(["dB", "dBA"], measurement, unit: "dB"),
        "speed": numeric(speedUnits + fluxUnits + ["in/s", "mm/s"], measurement, unit: "m/s"),
        "sulphur_dioxide": numeric(microgramsPerCubicMetre, measurement),
        "temperature": numeric(["°C", "°F", "K"], measurement, unit: "°C"),
        "timestamp": nonNumeric,
        "volatile_organic_compounds": numeric(microgramsPerCubicMetre, measurement),
        "volatile_organic_compounds_parts": numeric(["ppm", "ppb"], measurement, unit: "ppm"),
        "voltage": numeric(["V", "mV", "µV", "kV", "MV"], measurement, unit: "V"),
        "volume": numeric(volumeUnits, totals, unit: "L", state: .totalIncreasing),
        "volume_flow_rate": numeric(["m³/h", "ft³/min", "L/min", "gal/min", "mL/s"], measurement, unit: "L/min"),
        "volume_storage": numeric(volumeUnits, measurement, unit: "L"),
        "water": numeric(["L", "gal", "m³", "ft³", "CCF"], totals, unit: "L", state: .totalIncreasing),
        "weight": numeric(["kg", "g", "mg", "µg", "oz", "lb", "st"], any, unit: "kg"),
        "wind_direction": numeric(["°"], [.measurementAngle]),
        "wind_speed": numeric(speedUnits, measurement, unit: "m/s"),
    ]

    /// `binary_sensor` device classes.
    public static let binarySensor: Set<String> = [
        "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door", "garage_door", "gas",
        "heat", "light", "lock", "moisture", "motion", "moving", "occupancy", "opening", "plug", "power",
        "presence", "problem", "running", "safety", "smoke", "sound", "tamper", "update", "vibration", "window",
    ]
    /// `button` device classes.
    public static let button: Set<String> = ["identify", "restart", "update"]
    /// `switch` device classes.
    public static let `switch`: Set<String> = ["outlet", "switch"]
    /// `event` device classes.
    public static let event: Set<String> = ["button", "doorbell", "motion"]
    /// `update` device classes.
    public static let update: Set<String> = ["firmware"]

    /// State classes that accept only some units whatever the device class
    /// (`STATE_CLASS_UNITS`): `measurement_angle` needs degrees.
    public static let stateClassUnits: [StateClass: Set<String>] = [.measurementAngle: ["°"]]

    /// The device classes a component accepts; `nil` when it accepts none (select, text,
    /// device_tracker).
    public static func deviceClasses(for component: HAComponent) -> Set<String>? {
        switch component {
        case .sensor: Set(sensor.keys)
        case .number: Set(sensor.filter { $0.value.isNumeric }.keys)
        case .binarySensor: binarySensor
        case .button: button
        case .switch: self.switch
        case .event: event
        case .update: update
        case .select, .text, .deviceTracker: nil
        }
    }

    /// The unit and state class an entity gets when it names only a device class.
    ///
    /// Sensors get both; number controls get the unit; other components neither.
    public static func defaults(deviceClass: String, component: HAComponent) -> (unit: String?, stateClass: StateClass?) {
        guard let rule = sensor[deviceClass] else { return (nil, nil) }
        switch component {
        case .sensor: return (rule.defaultUnit, rule.defaultStateClass)
        case .number: return (rule.defaultUnit, nil)
        default: return (nil, nil)
        }
    }

    /// Whether `unit` looks like an ISO 4217 code: three upper-case letters (`EUR`, `SEK`).
    public static func isCurrency(_ unit: String) -> Bool {
        unit.count == 3 && unit.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) }
    }
}
