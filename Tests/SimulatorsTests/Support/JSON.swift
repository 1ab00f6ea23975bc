import BridgeCore
import Foundation

/// The JSON documents the tests read: the bridge's own JSON value (strict about types: a
/// boolean is never a number), with the accessors the tests hold the simulator's answers
/// against the OpenAPI document with.
typealias JSON = JSONValue

extension JSONValue {
    /// Parses `bytes`; `nil` when they are not a JSON document.
    static func decode(_ bytes: some Collection<UInt8>) -> JSON? {
        try? JSONValue.parse(bytes)
    }

    /// Parses `text`; `nil` when it is not a JSON document.
    static func decode(_ text: String) -> JSON? {
        decode(Array(text.utf8))
    }

    var object: [String: JSON]? {
        if case .object(let value) = self { value } else { nil }
    }

    var array: [JSON]? {
        if case .array(let value) = self { value } else { nil }
    }

    var string: String? {
        if case .string(let value) = self { value } else { nil }
    }

    var bool: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    var number: Double? {
        if case .number(let value) = self { value } else { nil }
    }

    /// The number when it is a whole number (the document's `integer`).
    var integer: Int64? {
        guard let number, number.rounded() == number, abs(number) < 9e15 else { return nil }
        return Int64(number)
    }

    /// An array of numbers, `nil` when it is not one.
    var numbers: [Double]? {
        guard let array else { return nil }
        let numbers = array.compactMap(\.number)
        return numbers.count == array.count ? numbers : nil
    }

    /// The member names of an object (empty for anything else).
    var keys: Set<String> {
        Set(object?.keys.map { $0 } ?? [])
    }
}

/// The property names of `HanStateMessage` (`additionalProperties: false`, all required).
let stateMessageKeys: Set<String> = [
    "type", "uuid", "name", "model", "serial", "version", "state", "mac", "ethIp", "wifiIp", "online", "channel",
]

/// The property names of `HanMeterMessage` (`additionalProperties: false`, all required).
let meterMessageKeys: Set<String> = ["type", "ts", "ic", "ec", "ric", "rec", "p", "pi", "pe", "r", "ri", "re", "u", "i"]

/// The property names of `HanMeterIdentityMessage` (`additionalProperties: false`, all required).
let meterIdentityKeys: Set<String> = ["type", "manufacturerId", "deviceType", "meterId", "meterName"]

/// The property names of `HanHealthMessage` (`additionalProperties: false`, all required).
let healthMessageKeys: Set<String> = [
    "type", "uuid", "hostname", "free_heap_size", "minimum_free_heap_size", "cpu_reset_reason", "uptime_ms",
]

/// `cpu_reset_reason` values the document allows.
let resetReasons: Set<String> = [
    "RST_UNKNOWN", "RST_POWERON", "RST_EXT", "RST_SW", "RST_PANIC", "RST_INT_WDT", "RST_TASK_WDT", "RST_WDT",
    "RST_DEEPSLEEP", "RST_BROWNOUT", "RST_SDIO",
]

/// `WifiAuthType` values the document allows.
let wifiAuthTypes: Set<String> = [
    "OPEN", "WEP", "WPA_PSK", "WPA2_PSK", "WPA_WPA2_PSK", "WPA2_ENTERPRISE", "WPA3_PSK", "WPA2_WPA3_PSK", "WAPI_PSK",
]
