import Foundation

/// One client of the simulated home network, as the Fritz!Box host table knows it.
public struct FritzNetworkClient: Hashable, Sendable {
    /// The host name (user-controlled: anything, `evil/#+ "quoted"` included).
    public var name: String
    /// The IPv4 address.
    public var ip: String
    /// The MAC address (`AA:BB:CC:DD:EE:FF`); may be empty, then the IP identifies the client.
    public var mac: String
    /// Whether the router sees it online now (`status: 1`).
    public var isOnline: Bool
    /// Comes and goes on its own (phones, laptops); stationary clients keep their state.
    public var isMobile: Bool
    /// Reported with an empty MAC while ``Quirk/emptyMACs`` is on (a guest or privacy-mode device).
    public var hidesMAC: Bool

    /// Creates a client.
    public init(name: String, ip: String, mac: String, isOnline: Bool = true, isMobile: Bool = false, hidesMAC: Bool = false) {
        self.name = name
        self.ip = ip
        self.mac = mac
        self.isOnline = isOnline
        self.isMobile = isMobile
        self.hidesMAC = hidesMAC
    }

    /// The id the API's users key clients by: the MAC, or the IP when the MAC is empty.
    public var id: String { mac.isEmpty ? ip : mac }

    /// A dozen clients of a family home: phones and laptops that come and go, stationary devices,
    /// two that hide their MAC (under the quirk), and one whose name is full of MQTT wildcards and quotes.
    public static let defaultNetwork: [FritzNetworkClient] = [
        FritzNetworkClient(name: "iPhone-Federico", ip: "192.168.178.25", mac: "AA:BB:CC:DD:EE:01", isMobile: true),
        FritzNetworkClient(name: "MacBook-Pro", ip: "192.168.178.30", mac: "11:22:33:44:55:66", isMobile: true),
        FritzNetworkClient(name: "Galaxy-S23", ip: "192.168.178.31", mac: "AA:BB:CC:DD:EE:03", isMobile: true),
        FritzNetworkClient(name: "iPad-Kitchen", ip: "192.168.178.32", mac: "AA:BB:CC:DD:EE:04", isOnline: false, isMobile: true),
        FritzNetworkClient(name: "Pixel-8", ip: "192.168.178.33", mac: "AA:BB:CC:DD:EE:05", isMobile: true),
        FritzNetworkClient(name: "Work-Laptop", ip: "192.168.178.40", mac: "AA:BB:CC:DD:EE:06", isMobile: true, hidesMAC: true),
        FritzNetworkClient(name: "NAS", ip: "192.168.178.10", mac: "AA:BB:CC:DD:EE:10"),
        FritzNetworkClient(name: "Printer-HP", ip: "192.168.178.11", mac: "AA:BB:CC:DD:EE:11", hidesMAC: true),
        FritzNetworkClient(name: "SmartTV", ip: "192.168.178.12", mac: "AA:BB:CC:DD:EE:12"),
        FritzNetworkClient(name: "Sonos-Living", ip: "192.168.178.13", mac: "AA:BB:CC:DD:EE:13"),
        FritzNetworkClient(name: "raspberrypi", ip: "192.168.178.14", mac: "AA:BB:CC:DD:EE:14"),
        FritzNetworkClient(name: #"evil/#+ "quoted""#, ip: "192.168.178.50", mac: "AA:BB:CC:DD:EE:50"),
    ]

    /// `count` extra stationary clients (`client-001` …) for paging tests, on 10.0.x.y, all online.
    public static func extra(_ count: Int) -> [FritzNetworkClient] {
        (0..<max(0, count)).map { index in
            let number = index + 1
            let high = number / 250, low = number % 250 + 1
            let mac = String(format: "02:00:00:00:%02X:%02X", number / 256, number % 256)
            return FritzNetworkClient(name: String(format: "client-%03d", number), ip: "10.0.\(high).\(low)", mac: mac)
        }
    }
}
