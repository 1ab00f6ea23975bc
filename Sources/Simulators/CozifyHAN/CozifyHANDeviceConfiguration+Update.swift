import BridgeCore
/// Why a `POST /configuration` or `POST /set-up` body was refused (400).
struct CozifyHANRequestError: Error, Hashable {
    let message: String
}

extension CozifyHANDeviceConfiguration {
    /// Applies a `POST /configuration` body: any subset of `s`, `p`, `m`, `e`, `w`; other keys are
    /// ignored, a Wi-Fi password of `***` keeps the stored one. All or nothing: on error, nothing changes.
    mutating func apply(_ body: JSONValue?) throws(CozifyHANRequestError) {
        guard let object = body?.objectValue else { throw CozifyHANRequestError(message: "body must be a JSON object") }
        var next = self
        if let value = object["s"] { next.s = try Self.bool(value, "s") }
        if let value = object["p"] {
            guard let price = value.numberValue, price.isFinite else { throw CozifyHANRequestError(message: "p must be a number") }
            next.p = price
        }
        if let value = object["m"] {
            let metering = try Self.object(value, "m")
            if let fuse = metering["f"] {
                guard let amps = fuse.numberValue.flatMap({ Int(exactly: $0) }), (1...1000).contains(amps) else {
                    throw CozifyHANRequestError(message: "m.f must be an integer between 1 and 1000")
                }
                next.m.f = amps
            }
        }
        if let value = object["e"] {
            let ethernet = try Self.object(value, "e")
            if let enabled = ethernet["e"] { next.e.e = try Self.bool(enabled, "e.e") }
            if let network = ethernet["n"] { try next.e.n.apply(network, "e.n") }
        }
        if let value = object["w"] {
            try next.w.apply(value)
        }
        self = next
    }

    static func object(_ value: JSONValue, _ name: String) throws(CozifyHANRequestError) -> [String: JSONValue] {
        guard let object = value.objectValue else { throw CozifyHANRequestError(message: "\(name) must be an object") }
        return object
    }

    static func bool(_ value: JSONValue, _ name: String) throws(CozifyHANRequestError) -> Bool {
        guard let bool = value.boolValue else { throw CozifyHANRequestError(message: "\(name) must be a boolean") }
        return bool
    }

    static func string(_ value: JSONValue, _ name: String) throws(CozifyHANRequestError) -> String {
        guard let string = value.stringValue else { throw CozifyHANRequestError(message: "\(name) must be a string") }
        return string
    }
}

extension CozifyHANDeviceConfiguration.WiFi {
    mutating func apply(_ value: JSONValue) throws(CozifyHANRequestError) {
        typealias C = CozifyHANDeviceConfiguration
        let wifi = try C.object(value, "w")
        if let enabled = wifi["e"] { e = try C.bool(enabled, "w.e") }
        if let ssid = wifi["s"] { s = try C.string(ssid, "w.s") }
        if let password = wifi["p"] {
            let newPassword = try C.string(password, "w.p")
            if newPassword != "***" { p = newPassword }
        }
        if let power = wifi["w"] {
            guard let dBm = power.numberValue.flatMap({ Int(exactly: $0) }), (0...21).contains(dBm) else {
                throw CozifyHANRequestError(message: "w.w must be an integer between 0 and 21 (dBm)")
            }
            w = dBm
        }
        if let powerSave = wifi["z"] { z = try C.bool(powerSave, "w.z") }
        if let mode11b = wifi["b"] { b = try C.bool(mode11b, "w.b") }
        if let network = wifi["n"] { try n.apply(network, "w.n") }
    }
}

extension CozifyHANDeviceConfiguration.Network {
    mutating func apply(_ value: JSONValue, _ name: String) throws(CozifyHANRequestError) {
        typealias C = CozifyHANDeviceConfiguration
        let network = try C.object(value, name)
        var next = self
        if let mode = network["m"] {
            let modeName = try C.string(mode, "\(name).m")
            guard ["dhcp", "static"].contains(modeName) else {
                throw CozifyHANRequestError(message: "\(name).m must be dhcp or static")
            }
            next.m = modeName
        }
        if let ip = network["i"] { next.i = try C.string(ip, "\(name).i") }
        if let mask = network["s"] { next.s = try C.string(mask, "\(name).s") }
        if let gateway = network["g"] { next.g = try C.string(gateway, "\(name).g") }
        if let dns = network["d1"] { next.d1 = try C.string(dns, "\(name).d1") }
        if let dns = network["d2"] { next.d2 = try C.string(dns, "\(name).d2") }
        if next.m == "static", [next.i, next.s, next.g].contains(where: { ($0 ?? "").isEmpty }) {
            throw CozifyHANRequestError(message: "\(name): static mode needs i, s and g")
        }
        self = next
    }
}
