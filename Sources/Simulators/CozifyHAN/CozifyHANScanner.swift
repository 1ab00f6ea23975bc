/// The Wi-Fi scan behind `GET /scan-networks`: a request with `X-Scan-Start` (or the first request
/// ever) starts a scan that runs for a while, then ends in `SCAN_SUCCESS` with networks
/// (or `SCAN_FAILED` with the `scanFails` quirk).
struct CozifyHANScanner: Sendable {
    /// One network found by a scan, as the API lists it.
    struct Network: Codable, Hashable, Sendable {
        var ssid: String
        var bssid: String
        var rssi: Int
        var channel: Int
        var auth: String
    }

    /// The answer of `GET /scan-networks`.
    struct Answer: Codable, Hashable, Sendable {
        var status: String
        var networks: [Network]?
    }

    private enum Phase: Sendable {
        case idle
        case running(until: ContinuousClock.Instant, fails: Bool)
        case finished(success: Bool)
    }

    static let networks = [
        Network(ssid: "HomeNetwork", bssid: "AA:BB:CC:00:11:22", rssi: -48, channel: 6, auth: "WPA2_PSK"),
        Network(ssid: "Neighbour-5G", bssid: "AA:BB:CC:33:44:55", rssi: -71, channel: 11, auth: "WPA2_WPA3_PSK"),
        Network(ssid: "Guest", bssid: "AA:BB:CC:66:77:88", rssi: -80, channel: 1, auth: "OPEN"),
    ]

    let duration: Duration
    private var phase = Phase.idle

    init(duration: Duration) {
        self.duration = duration
    }

    /// Handles one request at `now`; `start` is whether it carried `X-Scan-Start`.
    mutating func request(start: Bool, fails: @autoclosure () -> Bool, now: ContinuousClock.Instant) -> Answer {
        if case .running(let until, let willFail) = phase, now >= until {
            phase = .finished(success: !willFail)
        }
        if start || { if case .idle = phase { true } else { false } }() {
            phase = .running(until: now.advanced(by: duration), fails: fails())
        }
        switch phase {
        case .idle, .running:
            return Answer(status: "SCAN_RUNNING", networks: nil)
        case .finished(let success):
            return success ? Answer(status: "SCAN_SUCCESS", networks: Self.networks) : Answer(status: "SCAN_FAILED", networks: nil)
        }
    }
}
