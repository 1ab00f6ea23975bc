/// The reader's configuration document (`GET /configuration`). Property names are the wire names.
///
/// The simulator stores it with the Wi-Fi password in clear and answers ``masked()``: a configured
/// password reads `***`, an unset one reads as an empty string.
public struct CozifyHANDeviceConfiguration: Codable, Hashable, Sendable {
    /// Network settings of one interface.
    public struct Network: Codable, Hashable, Sendable {
        /// `dhcp` or `static`.
        public var m: String
        /// IP address.
        public var i: String?
        /// Netmask.
        public var s: String?
        /// Gateway.
        public var g: String?
        /// DNS 1.
        public var d1: String?
        /// DNS 2.
        public var d2: String?

        /// Creates network settings.
        public init(m: String, i: String? = nil, s: String? = nil, g: String? = nil, d1: String? = nil, d2: String? = nil) {
            self.m = m
            self.i = i
            self.s = s
            self.g = g
            self.d1 = d1
            self.d2 = d2
        }
    }

    /// Pricing and fuse settings.
    public struct Metering: Codable, Hashable, Sendable {
        /// Main fuse, A.
        public var f: Int
    }

    /// Ethernet settings.
    public struct Ethernet: Codable, Hashable, Sendable {
        /// Ethernet enabled.
        public var e: Bool
        /// Ethernet network settings.
        public var n: Network
    }

    /// Wi-Fi settings.
    public struct WiFi: Codable, Hashable, Sendable {
        /// Wi-Fi enabled.
        public var e: Bool
        /// SSID, empty when not set.
        public var s: String
        /// Password (`***` in answers when set, empty when not).
        public var p: String
        /// Transmit power, dBm.
        public var w: Int
        /// Power save enabled.
        public var z: Bool
        /// 802.11b enabled.
        public var b: Bool
        /// Wi-Fi network settings.
        public var n: Network
    }

    /// `HAN_CONFIGURATION` (`HAN_CONFIGURATION_MESSAGE` when pushed on a stream by newer firmware).
    public var type: String
    /// Firmware version.
    public var v: String
    /// Time zone, e.g. `Europe/Helsinki`.
    public var t: String
    /// Use the spot price.
    public var s: Bool
    /// Fixed price.
    public var p: Double
    /// Pricing and fuse settings.
    public var m: Metering
    /// Ethernet settings.
    public var e: Ethernet
    /// Wi-Fi settings.
    public var w: WiFi

    /// The configuration of a reader fresh from set-up: Wi-Fi with DHCP, Ethernet off, 25 A main fuse.
    public static func factoryDefault(firmwareVersion: String) -> CozifyHANDeviceConfiguration {
        CozifyHANDeviceConfiguration(
            type: "HAN_CONFIGURATION",
            v: firmwareVersion,
            t: "Europe/Helsinki",
            s: true,
            p: 0.15,
            m: Metering(f: 25),
            e: Ethernet(e: false, n: Network(m: "dhcp")),
            w: WiFi(e: true, s: "HomeNetwork", p: "correct horse battery staple", w: 20, z: false, b: false, n: Network(m: "dhcp"))
        )
    }

    /// The document as `GET /configuration` answers it: a set Wi-Fi password reads `***`.
    public func masked() -> CozifyHANDeviceConfiguration {
        var copy = self
        copy.w.p = w.p.isEmpty ? "" : "***"
        return copy
    }
}
