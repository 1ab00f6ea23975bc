import BridgeCore

/// The mutable state of the simulated gateway, guarded by the device's mutex.
struct TinyBMSStore: Sendable {
    static let historyCapacity = 512

    var pack: TinyBMSPack
    var alerts = TinyBMSAlertBook()
    /// `/api/history` samples, oldest first.
    var samples: [JSONValue] = []
    /// Simulated milliseconds since the simulator was created (advanced by ticks only).
    var simulatedMs: Int64 = 0
    /// `simulatedMs` at the last gateway boot (uptime counts from here).
    var bootAtMs: Int64 = 0
    var ticks = 0
    var telemetryFrames = 0
    /// The latest telemetry in the document's shape and in the deployed firmware's SI shape.
    var lastFrame: JSONValue?
    var lastSIFrame: JSONValue?
    var lastStatus: String
    var bmsRestarting = false
    var gatewayRebooting = false
    var gatewayRestartScheduled = false
    var restartRequests: [String] = []
    var boots = 0
    var csrfToken: String
    var csrfTokens = 0
    var gateway = TinyBMSGatewaySettings()
    var mqttConnected = true
    var mqttSent = 0
    var mqttReceived = 0
    var mqttErrors = 0
    var mqttLastError = ""
    var canState = "RUNNING"
    var canSent = 0
    var canReceived = 0
    var canErrors = 0
    var canLastError = ""
    var eventPublishes = 0

    init(seed: UInt64) {
        pack = TinyBMSPack(seed: seed)
        lastStatus = pack.status
        csrfToken = Self.token(seed: seed, counter: 0)
    }

    var uptimeMs: Int64 { simulatedMs - bootAtMs }

    /// A gateway boot: uptime starts again, nothing restarting.
    mutating func boot() {
        boots += 1
        bootAtMs = simulatedMs
        gatewayRebooting = false
        gatewayRestartScheduled = false
        bmsRestarting = false
    }

    /// A new CSRF token; the old one stops working.
    mutating func rotateCSRFToken(seed: UInt64) {
        csrfTokens += 1
        csrfToken = Self.token(seed: seed, counter: csrfTokens)
    }

    static func token(seed: UInt64, counter: Int) -> String {
        var random = SeededRandom(seed: seed &+ 0x5EED &+ UInt64(counter))
        return (0..<4).map { _ in String(random.next() & 0xFFFF_FFFF, radix: 16) }.joined()
    }

    mutating func appendSample(_ sample: JSONValue) {
        samples.append(sample)
        if samples.count > Self.historyCapacity { samples.removeFirst(samples.count - Self.historyCapacity) }
    }
}

/// `GET/POST /api/config` and `/api/mqtt/config` settings.
struct TinyBMSGatewaySettings: Sendable, Hashable {
    var wifiSSID = "MyNetwork"
    var wifiPassword = "wifi-password"
    var mqttBrokerURI = "mqtt://192.168.1.10:1883"
    var mqttPort = 1883
    var mqttUsername = "tinybms"
    var mqttPassword = "mqtt-password"
    var mqttKeepalive = 120
    var mqttQoS = 1
    var mqttRetain = false
    var topicStatus = "tinybms/status"
    var topicMetrics = "tinybms/metrics"
    var topicConfig = "tinybms/config"
    let clientId = "tinybms-gw-001"

    var host: String {
        let withoutScheme = mqttBrokerURI.split(separator: "://", maxSplits: 1).last.map(String.init) ?? mqttBrokerURI
        return withoutScheme.split(separator: ":").first.map(String.init) ?? withoutScheme
    }

    var scheme: String {
        mqttBrokerURI.split(separator: "://", maxSplits: 1).first.map(String.init) ?? "mqtt"
    }

    /// `POST /api/config`: `wifi_ssid`, `wifi_password`, `mqtt_broker`, `mqtt_port`; all or nothing.
    mutating func applyConfig(_ body: JSONValue?) throws(TinyBMSRequestError) {
        guard let object = body?.objectValue else { throw .invalid("body must be a JSON object") }
        var next = self
        for (key, value) in object {
            switch key {
            case "wifi_ssid":
                guard let ssid = value.stringValue, (1...32).contains(ssid.utf8.count) else {
                    throw .invalid("wifi_ssid must be 1-32 characters")
                }
                next.wifiSSID = ssid
            case "wifi_password":
                guard let password = value.stringValue, (8...64).contains(password.utf8.count) else {
                    throw .invalid("wifi_password must be 8-64 characters")
                }
                next.wifiPassword = password
            case "mqtt_broker": next.mqttBrokerURI = try Self.brokerURI(value, key)
            case "mqtt_port": next.mqttPort = try Self.integer(value, key, in: 1...65535)
            default: throw .invalid("unknown field \(key)")
            }
        }
        self = next
    }

    /// `POST /api/mqtt/config`; all or nothing.
    mutating func applyMQTT(_ body: JSONValue?) throws(TinyBMSRequestError) {
        guard let object = body?.objectValue else { throw .invalid("body must be a JSON object") }
        var next = self
        for (key, value) in object {
            switch key {
            case "broker_uri": next.mqttBrokerURI = try Self.brokerURI(value, key)
            case "port": next.mqttPort = try Self.integer(value, key, in: 1...65535)
            case "username": next.mqttUsername = try Self.string(value, key, maxLength: 64)
            case "password": next.mqttPassword = try Self.string(value, key, maxLength: 64)
            case "keepalive": next.mqttKeepalive = try Self.integer(value, key, in: 0...3600)
            case "default_qos": next.mqttQoS = try Self.integer(value, key, in: 0...2)
            case "retain":
                guard let retain = value.boolValue else { throw .invalid("retain must be a boolean") }
                next.mqttRetain = retain
            case "topic_status": next.topicStatus = try Self.string(value, key, maxLength: 128, nonEmpty: true)
            case "topic_metrics": next.topicMetrics = try Self.string(value, key, maxLength: 128, nonEmpty: true)
            case "topic_config": next.topicConfig = try Self.string(value, key, maxLength: 128, nonEmpty: true)
            default: throw .invalid("unknown field \(key)")
            }
        }
        self = next
    }

    private static func brokerURI(_ value: JSONValue, _ key: String) throws(TinyBMSRequestError) -> String {
        guard let uri = value.stringValue, uri.hasPrefix("mqtt://") || uri.hasPrefix("mqtts://"), uri.utf8.count <= 128 else {
            throw .invalid("\(key) must be an mqtt:// or mqtts:// URI")
        }
        return uri
    }

    private static func integer(_ value: JSONValue, _ key: String, in range: ClosedRange<Int>) throws(TinyBMSRequestError) -> Int {
        guard let number = value.numberValue, number.rounded() == number,
            number >= Double(range.lowerBound), number <= Double(range.upperBound)
        else {
            throw .invalid("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(number)
    }

    private static func string(_ value: JSONValue, _ key: String, maxLength: Int, nonEmpty: Bool = false) throws(TinyBMSRequestError) -> String {
        guard let text = value.stringValue, text.utf8.count <= maxLength, !nonEmpty || !text.isEmpty else {
            throw .invalid("\(key) must be a string of at most \(maxLength) characters")
        }
        return text
    }
}
