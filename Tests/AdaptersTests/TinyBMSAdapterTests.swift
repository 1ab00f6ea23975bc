import Adapters
import BridgeCore
import NIOCore
import Foundation
import Logging
import Simulators
import SourceKit
import Synchronization
import Testing
import TestSupport

/// The TinyBMS adapter against its simulator over real loopback sockets. Waits are for events, with a
/// generous limit that only guards against hangs.
@Suite("TinyBMSAdapter against the simulator", .serialized)
struct TinyBMSAdapterTests {
    static let hangLimit: Duration = .seconds(60)

    static func simulatorConfiguration(quirks: Set<Quirk> = [], credentials: TinyBMSSimulator.Credentials? = nil) -> TinyBMSSimulator.Configuration {
        TinyBMSSimulator.Configuration(
            autoTickDelay: nil, seed: 42, credentials: credentials, bmsRestartDuration: nil, gatewayRebootDuration: nil, quirks: quirks)
    }

    func withAdapter<T: Sendable>(
        _ configuration: TinyBMSSimulator.Configuration = TinyBMSAdapterTests.simulatorConfiguration(),
        timeout: Duration = .seconds(5),
        options: [String: ConfigValue] = [:],
        _ body: @Sendable (TinyBMSSimulator, TinyBMSAdapter) async throws -> T
    ) async throws -> T {
        let simulator = TinyBMSSimulator(configuration: configuration)
        let port = try await simulator.start()
        let pool = HTTPClientPool()
        var logger = Logger(label: "test.tinybms")
        logger.logLevel = .critical
        do {
            let source = SourceConfiguration(
                id: "bms", type: .tinyBMS, url: URL(string: "http://127.0.0.1:\(port)"), timeout: timeout, options: options)
            let adapter = try TinyBMSAdapter(configuration: source, pool: pool, logger: logger)
            let result = try await body(simulator, adapter)
            await pool.shutdown()
            await simulator.stop()
            return result
        } catch {
            await pool.shutdown()
            await simulator.stop()
            throw error
        }
    }

    /// Polls `condition` every 10 ms; throws when it still fails after the hang limit.
    static func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: hangLimit)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TestHang(what: what) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    struct TestHang: Error, CustomStringConvertible {
        let what: String
        var description: String { "still waiting for \(what)" }
    }

    /// Waits until the simulator has the adapter's three sockets open.
    static func waitForSockets(_ simulator: TinyBMSSimulator, telemetryOnly: Bool = false) async throws {
        try await eventually("the adapter's sockets") {
            let open = simulator.state.openSockets
            return open["/ws/telemetry"] == 1 && (telemetryOnly || (open["/ws/alerts"] == 1 && open["/ws/events"] == 1))
        }
    }

    // MARK: Reading

    @Test("every endpoint reads its document; telemetry is the battery object of /api/status; an unknown endpoint throws")
    func reading() async throws {
        try await withAdapter { (simulator, adapter) async throws in
            simulator.tick(3)
            let telemetry = try #require(try await adapter.read(endpoint: "telemetry"))
            #expect(telemetry["voltage_mv"]?.numberValue == (simulator.state.packVoltage * 1000).rounded())
            #expect(telemetry["cells_count"]?.numberValue == 16)
            for endpoint in [
                "status", "runtime", "tasks", "history", "config", "mqtt_config", "mqtt", "alerts", "alert_history",
                "alert_statistics", "alert_config", "can", "event_bus",
            ] {
                #expect(try await adapter.read(endpoint: endpoint)?.objectValue != nil, "\(endpoint)")
            }
            #expect(try await adapter.read(endpoint: "status")?["uptime_ms"]?.numberValue == 3_000)
            #expect(simulator.requests.requests(path: "/api/history").last?.query == "limit=60")
            await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "nonsense") }
            let polled = Set(adapter.polls.map(\.endpoint))
            #expect(polled == ["status", "alerts", "alert_statistics", "alert_config", "runtime", "can", "mqtt", "event_bus"])
            #expect(adapter.streamFallback.map(\.endpoint) == ["telemetry"])
            #expect(adapter.hasStream)
        }
    }

    @Test("deployed firmware: /api/status {\"battery\": {SI}} reads as the SI telemetry object")
    func readingDeployedShape() async throws {
        try await withAdapter(Self.simulatorConfiguration(quirks: TinyBMSSimulator.deployedFirmwareQuirks)) { (simulator, adapter) async throws in
            simulator.hold(current: 10)
            simulator.tick()
            let telemetry = try #require(try await adapter.read(endpoint: "telemetry"))
            #expect(telemetry["type"]?.stringValue == "battery")
            #expect(telemetry["pack_current_a"]?.numberValue == 10)
            #expect(telemetry["cell_voltage_mv"]?.arrayValue?.count == 16)
        }
    }

    @Test("stream: poll mode has none and polls telemetry instead")
    func pollMode() async throws {
        try await withAdapter(options: ["stream": .string("poll"), "poll_interval": .duration(.seconds(2))]) { (_, adapter) async throws in
            #expect(!adapter.hasStream && adapter.stream() == nil)
            #expect(adapter.polls.contains(PollSchedule(endpoint: "telemetry", every: .seconds(2))))
            #expect(adapter.streamFallback.isEmpty)
        }
    }

    // MARK: Streams

    /// A document without the adapter's `derived` member.
    static func withoutDerived(_ document: JSONValue) -> JSONValue {
        guard var object = document.objectValue else { return document }
        object["derived"] = nil
        return .object(object)
    }

    @Test("documented telemetry: every frame arrives as `telemetry`, unchanged plus `derived`, confirming the stream")
    func documentedTelemetry() async throws {
        try await withAdapter { (simulator, adapter) async throws in
            let collector = DocumentCollector(try #require(adapter.stream()))
            try await Self.waitForSockets(simulator)
            var sent: [JSONValue] = []
            for _ in 0..<3 { sent.append(try #require(simulator.tick())) }
            try await Self.eventually("three telemetry frames") { collector.frames.count >= 3 }
            #expect(collector.frames.map { Self.withoutDerived($0.document) } == sent)
            // What the mapping cannot compute: power from mV × mA, the cell spread.
            for (frame, original) in zip(collector.frames.map(\.document), sent) {
                let millivolts = original["voltage_mv"]?.numberValue ?? 0, milliamps = original["current_ma"]?.numberValue ?? 0
                #expect(frame["derived"]?["power_w"]?.numberValue == (millivolts * milliamps / 100_000).rounded() / 10)
                let cells = original["cells"]?.arrayValue?.compactMap { $0["voltage_mv"]?.numberValue } ?? []
                #expect(frame["derived"]?["cell_min_mv"]?.numberValue == cells.min())
                #expect(frame["derived"]?["cell_delta_mv"]?.numberValue == (cells.max() ?? 0) - (cells.min() ?? 0))
                #expect(frame["derived"]?["protection"] == nil)
            }
            collector.cancel()
        }
    }

    @Test("deployed telemetry: the bare first frame and the wrapped ones all arrive as the SI object")
    func deployedTelemetry() async throws {
        try await withAdapter(Self.simulatorConfiguration(quirks: [.tinyBMSWrappedTelemetry, .tinyBMSNoJSONPing])) { (simulator, adapter) async throws in
            simulator.tick()
            let collector = DocumentCollector(try #require(adapter.stream()))
            try await Self.waitForSockets(simulator)
            simulator.tick(2)
            try await Self.eventually("three telemetry frames") { collector.frames.count >= 3 }
            let frames = collector.frames.map(\.document)
            #expect(frames.allSatisfy { $0["type"]?.stringValue == "battery" && $0["pack_voltage_v"] != nil })
            #expect(frames.compactMap { $0["timestamp_ms"]?.numberValue } == [1_000, 2_000, 3_000])
            // power_w is sent, so not derived; alarm_bits are decoded into the documented flags.
            #expect(frames.allSatisfy { $0["derived"]?["power_w"] == nil && $0["derived"]?["protection"]?["ov"] == .bool(false) })
            collector.cancel()
        }
    }

    @Test("alerts: the snapshot, a threshold alert as `alert_event` plus the list, acknowledgement re-reads the list")
    func alertsFlow() async throws {
        try await withAdapter { (simulator, adapter) async throws in
            let collector = DocumentCollector(try #require(adapter.stream()))
            try await Self.waitForSockets(simulator)
            try await Self.eventually("the alerts snapshot") { !collector.documents(endpoint: "alerts").isEmpty }
            #expect(collector.documents(endpoint: "alerts").first?.document == ["alerts": [], "count": 0])

            #expect(try await adapter.perform(action: "set_alert_config", value: ["debounce_sec": 0, "temperature_max_c": 40], childKey: nil) == 200)
            #expect(simulator.state.alertConfig.debounceSec == 0 && simulator.state.alertConfig.temperatureMaxC == 40)
            simulator.hold(temperature: 42)
            simulator.tick()
            try await Self.eventually("the alert event") { !collector.documents(endpoint: "alert_event").isEmpty }
            let event = try #require(collector.documents(endpoint: "alert_event").first)
            #expect(event.document["alert"]?["type"]?.numberValue == 1 && !event.confirmsStream)
            let id = try #require(event.document["alert"]?["alert_id"])
            try await Self.eventually("the list with the alert") {
                collector.documents(endpoint: "alerts").last?.document["count"]?.numberValue == 1
            }
            try await Self.eventually("ALERT_TRIGGERED") {
                collector.documents(endpoint: "event").contains { $0.document["event"]?.stringValue == "ALERT_TRIGGERED" }
            }

            let before = collector.documents(endpoint: "alerts").count
            #expect(try await adapter.perform(action: "acknowledge_alert", value: id, childKey: nil) == 200)
            #expect(simulator.state.activeAlerts.isEmpty)
            #expect(simulator.requests.count(method: "GET", path: "/api/alerts/active") >= 1, "re-read after the acknowledgement")
            try await Self.eventually("the emptied list") {
                collector.documents(endpoint: "alerts").dropFirst(before).contains { $0.document["count"]?.numberValue == 0 }
            }
            collector.cancel()
        }
    }

    @Test("system events arrive as `event`, unchanged and not confirming the stream")
    func events() async throws {
        try await withAdapter { (simulator, adapter) async throws in
            let collector = DocumentCollector(try #require(adapter.stream()))
            try await Self.waitForSockets(simulator)
            simulator.emitEvent("WIFI_DISCONNECTED", data: ["reason": "beacon timeout"])
            try await Self.eventually("the event") { !collector.documents(endpoint: "event").isEmpty }
            let event = try #require(collector.documents(endpoint: "event").first)
            #expect(event.document["event"]?.stringValue == "WIFI_DISCONNECTED" && event.document["data"]?["reason"] == "beacon timeout")
            #expect(!event.confirmsStream)
            collector.cancel()
        }
    }

    @Test("an evicted telemetry socket reconnects by itself; the stream stays up and frames flow again")
    func evictionRecovery() async throws {
        try await withAdapter(Self.simulatorConfiguration(quirks: [.tinyBMSSocketLimit])) { (simulator, adapter) async throws in
            let collector = DocumentCollector(try #require(adapter.stream()))
            try await Self.waitForSockets(simulator)
            // A browser tab takes four sockets: 3 + 5 > 7, the least recently used adapter socket goes.
            #expect(simulator.openBrowserTabs(5) == 1)
            simulator.closeBrowserTabs()
            simulator.faults.dropStreams(on: .paths(["/ws/telemetry"]))
            try await Self.eventually("all three sockets back") {
                let open = simulator.state.openSockets
                return open["/ws/telemetry"] == 1 && open["/ws/alerts"] == 1 && open["/ws/events"] == 1
                    && simulator.requests.count(path: "/ws/telemetry") >= 2
            }
            simulator.tick()
            try await Self.eventually("a frame after the reconnect") { !collector.frames.isEmpty }
            #expect(collector.ending == nil, "the stream did not end")
            collector.cancel()
        }
    }

    @Test("while the telemetry socket delivers nothing, /api/status is polled inside the stream (not confirming it)")
    func gapPolling() async throws {
        try await withAdapter(options: ["poll_interval": .duration(.milliseconds(200))]) { (simulator, adapter) async throws in
            // No tick: the telemetry socket connects but carries nothing.
            let collector = DocumentCollector(try #require(adapter.stream()))
            try await Self.eventually("a polled telemetry document") {
                collector.documents(endpoint: "telemetry").contains { !$0.confirmsStream }
            }
            let polled = try #require(collector.documents(endpoint: "telemetry").first { !$0.confirmsStream })
            #expect(polled.document["current_ma"]?.numberValue == (simulator.state.current * 1000).rounded())
            #expect(collector.frames.isEmpty)
            #expect(simulator.requests.count(method: "GET", path: "/api/status") >= 1)
            collector.cancel()
        }
    }

    @Test("the stream ends with an error when the gateway stays down (the supervisor then polls and reconnects)")
    func streamEndsWhenDown() async throws {
        try await withAdapter { (simulator, adapter) async throws in
            simulator.tick()
            let collector = DocumentCollector(try #require(adapter.stream()))
            try await Self.waitForSockets(simulator)
            await simulator.stopAbruptly()
            try await Self.eventually("the stream to end") { collector.ending != nil }
            #expect(collector.ending?.isFailure == true)
        }
    }

    // MARK: Errors and auth

    @Test("reads fail with the HTTP status on 500, malformedResponse on broken JSON, timeout on a hang; a 429 holds further reads back")
    func readErrors() async throws {
        try await withAdapter(timeout: .milliseconds(500)) { (simulator, adapter) async throws in
            simulator.faults.activate(.httpError(500), on: .paths(["/api/can/status"]))
            await Self.expectSourceError(status: 500) { try await adapter.read(endpoint: "can") }
            simulator.faults.clear()
            simulator.faults.activate(.malformedJSON, on: .paths(["/api/alerts/statistics"]))
            do {
                _ = try await adapter.read(endpoint: "alert_statistics")
                Issue.record("expected malformedResponse")
            } catch let error as SourceError {
                guard case .malformedResponse = error else { Issue.record("got \(error)"); return }
            }
            simulator.faults.clear()
            simulator.faults.activate(.timeout, on: .paths(["/api/metrics/runtime"]))
            do {
                _ = try await adapter.read(endpoint: "runtime")
                Issue.record("expected a timeout")
            } catch let error as SourceError {
                guard case .timeout = error else { Issue.record("got \(error)"); return }
            }
            simulator.faults.clear()
            #expect(try await adapter.read(endpoint: "runtime") != nil)

            // 429 without Retry-After: the rate budget holds further requests back (not sent at all).
            simulator.faults.activate(.httpError(429), on: .paths(["/api/mqtt/status"]))
            await Self.expectSourceError(status: 429) { try await adapter.read(endpoint: "mqtt") }
            let sent = simulator.requests.count()
            await Self.expectSourceError(status: 429) { try await adapter.read(endpoint: "can") }
            #expect(simulator.requests.count() == sent)
        }
    }

    static func expectSourceError(status: Int, _ body: () async throws -> JSONValue?) async {
        do {
            _ = try await body()
            Issue.record("expected HTTP \(status)")
        } catch let error as SourceError {
            #expect(error.status == status, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("Basic auth: without or with wrong credentials reads fail with 401; with them they pass, and the password never shows")
    func basicAuth() async throws {
        let credentials = TinyBMSSimulator.Credentials(username: "admin", password: "very-secret-pw-42")
        try await withAdapter(Self.simulatorConfiguration(credentials: credentials)) { (_, adapter) async throws in
            await Self.expectSourceError(status: 401) { try await adapter.read(endpoint: "status") }
            do throws(CommandFailure) {
                _ = try await adapter.perform(action: "acknowledge_all_alerts", value: .null, childKey: nil)
                Issue.record("expected a failure")
            } catch {
                #expect(error.code == .callFailed && error.httpStatus == 401)
            }
        }
        try await withAdapter(
            Self.simulatorConfiguration(credentials: credentials),
            options: ["username": .string("admin"), "password": .secret(Secret("wrong-password"))]
        ) { (_, adapter) async throws in
            do {
                _ = try await adapter.read(endpoint: "status")
                Issue.record("expected 401")
            } catch {
                #expect(!"\(error)".contains("wrong-password"))
            }
        }
        try await withAdapter(
            Self.simulatorConfiguration(credentials: credentials),
            options: ["username": .string("admin"), "password": .secret(Secret("very-secret-pw-42"))]
        ) { (simulator, adapter) async throws in
            #expect(try await adapter.read(endpoint: "status") != nil)
            simulator.tick()
            let collector = DocumentCollector(try #require(adapter.stream()))
            try await Self.waitForSockets(simulator)
            simulator.tick()
            try await Self.eventually("telemetry through the authenticated socket") { !collector.frames.isEmpty }
            collector.cancel()
        }
    }

    @Test("CSRF: commands carry the token; an expired token is renewed once after the 403 and the command succeeds")
    func csrf() async throws {
        let credentials = TinyBMSSimulator.Credentials(username: "admin", password: "very-secret-pw-42")
        try await withAdapter(
            Self.simulatorConfiguration(credentials: credentials),
            options: ["username": .string("admin"), "password": .secret(Secret("very-secret-pw-42"))]
        ) { (simulator, adapter) async throws in
            simulator.raiseAlert()
            #expect(try await adapter.perform(action: "acknowledge_all_alerts", value: .null, childKey: nil) == 200)
            let post = try #require(simulator.requests.requests(method: "POST", path: "/api/alerts/acknowledge").last)
            #expect(post.headers["x-csrf-token"] == simulator.state.csrfToken)
            #expect(simulator.state.activeAlerts.isEmpty)

            simulator.expireCSRFToken()
            #expect(try await adapter.perform(action: "clear_alert_history", value: .null, childKey: nil) == 200)
            #expect(simulator.requests.count(method: "DELETE", path: "/api/alerts/history") == 2, "one 403, one renewed")
            #expect(simulator.requests.count(method: "GET", path: "/api/security/csrf") == 2)
        }
    }

    // MARK: Commands

    @Test("acknowledge one alert: an unknown id is call_failed with 404; a non-numeric id is invalid_value and nothing is sent")
    func acknowledgeErrors() async throws {
        try await withAdapter { (simulator, adapter) async throws in
            let alert = simulator.raiseAlert()
            let status = try await adapter.perform(action: "acknowledge_alert", value: .string("\(alert.alertId)"), childKey: nil)
            #expect(status == 200)
            do throws(CommandFailure) {
                _ = try await adapter.perform(action: "acknowledge_alert", value: 999, childKey: nil)
                Issue.record("expected a failure")
            } catch {
                #expect(error.code == .callFailed && error.httpStatus == 404)
                #expect(error.message.contains("999"))
            }
            let posts = simulator.requests.count(method: "POST")
            for bad: JSONValue in ["abc", 1.5, -3, true] {
                do throws(CommandFailure) {
                    _ = try await adapter.perform(action: "acknowledge_alert", value: bad, childKey: nil)
                    Issue.record("expected invalid_value for \(bad)")
                } catch {
                    #expect(error.code == .invalidValue)
                }
            }
            #expect(simulator.requests.count(method: "POST") == posts)
            do throws(CommandFailure) {
                _ = try await adapter.perform(action: "self_destruct", value: .null, childKey: nil)
                Issue.record("expected not_supported")
            } catch {
                #expect(error.code == .notSupported)
            }
        }
    }

    @Test("alert thresholds: a mapping call POSTs only its field; out of range or min ≥ max is invalid_value with no POST")
    func thresholds() async throws {
        try await withAdapter { (simulator, adapter) async throws in
            _ = try await adapter.read(endpoint: "alert_config")
            #expect(try await adapter.execute(RenderedCall(method: "POST", path: "/api/alerts/config", body: ["temperature_max_c": 50])) == 200)
            let post = try #require(simulator.requests.requests(method: "POST", path: "/api/alerts/config").last)
            #expect(try JSONValue.parse(post.body) == ["temperature_max_c": 50])
            #expect(simulator.state.alertConfig.temperatureMaxC == 50)
            #expect(try await adapter.perform(action: "set_alert_config", value: 3_600, childKey: "cell_voltage_max_mv") == 200)
            #expect(simulator.state.alertConfig.cellVoltageMaxMv == 3_600)

            let posts = simulator.requests.count(method: "POST", path: "/api/alerts/config")
            let rejected: [RenderedCall] = [
                RenderedCall(method: "POST", path: "/api/alerts/config", body: ["temperature_max_c": 500]),
                RenderedCall(method: "POST", path: "/api/alerts/config", body: ["debounce_sec": 1.5]),
                RenderedCall(method: "POST", path: "/api/alerts/config", body: ["temp_high_enabled": "yes"]),
                RenderedCall(method: "POST", path: "/api/alerts/config", body: ["bogus": 1]),
                RenderedCall(method: "POST", path: "/api/alerts/config", body: ["cell_voltage_min_mv": 3_600]),
                RenderedCall(method: "POST", path: "/api/alerts/config", body: ["temperature_min_c": 60]),
            ]
            for call in rejected {
                do throws(CommandFailure) {
                    _ = try await adapter.execute(call)
                    Issue.record("expected invalid_value for \(call.body?.jsonString ?? "")")
                } catch {
                    #expect(error.code == .invalidValue, "\(error.message)")
                }
            }
            #expect(simulator.requests.count(method: "POST", path: "/api/alerts/config") == posts, "nothing was sent")
        }
    }

    @Test("a command the gateway rejects is call_failed with its status and the plain-text reason")
    func rejectedCommand() async throws {
        try await withAdapter(Self.simulatorConfiguration(quirks: [.tinyBMSPlainTextErrors])) { (simulator, adapter) async throws in
            do throws(CommandFailure) {
                _ = try await adapter.execute(RenderedCall(method: "POST", path: "/api/config", body: ["wifi_ssid": ""]))
                Issue.record("expected a failure")
            } catch {
                #expect(error.code == .callFailed && error.httpStatus == 400)
                #expect(error.message.contains("wifi_ssid"), "\(error.message)")
            }
            simulator.faults.activate(.httpError(500))
            do throws(CommandFailure) {
                _ = try await adapter.perform(action: "acknowledge_all_alerts", value: .null, childKey: nil)
                Issue.record("expected a failure")
            } catch {
                #expect(error.code == .callFailed && error.httpStatus == 500)
            }
        }
    }

    @Test("restart BMS: 200; with fallback: 202; a restart meanwhile is refused at once; once the gateway was seen back, accepted again")
    func restarts() async throws {
        try await withAdapter { (simulator, adapter) async throws in
            #expect(try await adapter.perform(action: "restart_bms", value: .null, childKey: nil) == 200)
            #expect(simulator.state.bmsRestarting)
            try await simulator.finishRestart()

            simulator.faults.enable(.tinyBMSRestartFallback, times: 1)
            #expect(try await adapter.perform(action: "restart_bms", value: .null, childKey: nil) == 202)
            try await Self.eventually("the gateway to go down") { simulator.state.gatewayRebooting }
            let posts = simulator.requests.count(method: "POST", path: "/api/system/restart")
            do throws(CommandFailure) {
                _ = try await adapter.perform(action: "restart_gateway", value: .null, childKey: nil)
                Issue.record("expected a refusal")
            } catch {
                #expect(error.code == .sourceUnavailable)
            }
            #expect(simulator.requests.count(method: "POST", path: "/api/system/restart") == posts)

            // Seen down, then back: restarts are accepted again.
            await #expect(throws: SourceError.self) { _ = try await adapter.read(endpoint: "status") }
            try await simulator.finishRestart()
            #expect(try await adapter.read(endpoint: "status") != nil)
            #expect(try await adapter.perform(action: "restart_bms", value: .null, childKey: nil) == 200)
            #expect(simulator.state.restartRequests == ["bms", "bms", "bms"])
        }
    }

    @Test("a restart sent to a gateway that is down is call_failed, promptly, not a hang; secrets stay out of the message")
    func restartWhileDown() async throws {
        try await withAdapter(
            timeout: .seconds(2),
            options: ["username": .string("admin"), "password": .secret(Secret("very-secret-pw-42"))]
        ) { (simulator, adapter) async throws in
            await simulator.stopAbruptly()
            do throws(CommandFailure) {
                _ = try await adapter.execute(RenderedCall(method: "POST", path: "/api/system/restart", body: ["target": "gateway"]))
                Issue.record("expected a failure")
            } catch {
                #expect(error.code == .callFailed || error.code == .timeout)
                #expect(!error.message.contains("very-secret-pw-42"))
            }
            do throws(CommandFailure) {
                _ = try await adapter.execute(RenderedCall(method: "POST", path: "/api/system/restart", body: ["target": "wifi"]))
                Issue.record("expected invalid_value")
            } catch {
                #expect(error.code == .invalidValue)
            }
        }
    }
}

/// Consumes an adapter stream in the background and keeps what arrived.
final class DocumentCollector: Sendable {
    enum Ending: Sendable {
        case finished
        case failed(String)

        var isFailure: Bool {
            if case .failed = self { true } else { false }
        }
    }

    private struct State {
        var documents: [SourceDocument] = []
        var ending: Ending?
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(_ stream: AsyncThrowingStream<SourceDocument, any Error>) {
        let task = Task { [self] in
            do {
                for try await document in stream {
                    self.state.withLock { $0.documents.append(document) }
                }
                self.state.withLock { $0.ending = .finished }
            } catch {
                self.state.withLock { $0.ending = .failed("\(error)") }
            }
        }
        self.task.withLock { $0 = task }
    }

    var documents: [SourceDocument] { state.withLock { $0.documents } }
    var ending: Ending? { state.withLock { $0.ending } }

    /// Telemetry frames from the socket (not the documents polled while it was silent).
    var frames: [SourceDocument] {
        documents(endpoint: "telemetry").filter(\.confirmsStream)
    }

    func documents(endpoint: String) -> [SourceDocument] {
        documents.filter { $0.endpoint == endpoint }
    }

    func cancel() {
        task.withLock { $0 }?.cancel()
    }
}

/// The adapter under the real supervisor (`SourceRunner`), the simulator ticking by itself.
@Suite("TinyBMSAdapter under the supervisor", .serialized)
struct TinyBMSSupervisedTests {
    static let mapping = """
        source: tinybms
        entities:
          - { id: voltage, from: { endpoint: telemetry, path: voltage_mv }, device_class: voltage, unit: mV }
        """

    struct Harness: Sendable {
        let simulator: TinyBMSSimulator
        let service: SourceRunner
        let broker: InMemoryBroker
        let recorder: LogRecorder

        var published: Int { broker.published(on: "api2mqtt/bms").count }
        var availability: [String] { broker.published(on: "api2mqtt/bms/availability").map { String(decoding: $0.payload, as: UTF8.self) } }
    }

    /// Runs the simulator (ticking every 100 ms) and the adapter under a `SourceRunner`, then stops both.
    func withSupervisedSource(
        quirks: Set<Quirk> = [], options: [String: ConfigValue] = [:], _ body: @Sendable (Harness) async throws -> Void
    ) async throws {
        let simulator = TinyBMSSimulator(
            configuration: TinyBMSSimulator.Configuration(
                tickInterval: .milliseconds(100), autoTickDelay: .zero, seed: 42, bmsRestartDuration: nil, gatewayRebootDuration: nil,
                quirks: quirks))
        let port = try await simulator.start()
        let pool = HTTPClientPool()
        let recorder = LogRecorder()
        let logger = Logger(label: "test.tinybms.supervised") { _ in recorder }
        let broker = InMemoryBroker()
        let source = SourceConfiguration(
            id: "bms", type: .tinyBMS, url: URL(string: "http://127.0.0.1:\(port)"), timeout: .seconds(2), options: options)
        let context = DiscoveryContext(baseTopic: "api2mqtt", discoveryPrefix: "homeassistant")
        let outcome: Result<Void, any Error>
        var run: Task<Void, Never>?
        do {
            let bridge = SourcePublisher(
                configuration: source, mapping: try MappingLoader.load(yaml: Self.mapping, file: "tinybms-test.yaml"), context: context,
                settings: PublishSettings(), broker: broker,
                discovery: DiscoveryPublisher(context: context, broker: broker, logger: logger),
                availability: AvailabilityPublisher(context: context, broker: broker, logger: logger), logger: logger,
                now: { .now })
            let service = SourceRunner(
                bridge: bridge, adapter: try TinyBMSAdapter(configuration: source, pool: pool, logger: logger), logger: logger)
            run = Task { try? await service.run() }
            let harness = Harness(simulator: simulator, service: service, broker: broker, recorder: recorder)
            try await TinyBMSAdapterTests.eventually("live telemetry published") {
                service.health.streamUp == true && harness.published >= 2
            }
            try await body(harness)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        run?.cancel()
        await run?.value
        await pool.shutdown()
        await simulator.stop()
        try outcome.get()
    }

    @Test("telemetry flows; an eviction war with a browser tab and its end cost no warnings, and frames flow again")
    func evictionWar() async throws {
        try await withSupervisedSource(quirks: [.tinyBMSSocketLimit]) { harness in
            let simulator = harness.simulator
            simulator.openBrowserTabs(5)
            try await TinyBMSAdapterTests.eventually("an eviction war") { simulator.state.evictions >= 6 }
            simulator.closeBrowserTabs()
            let before = harness.published
            try await TinyBMSAdapterTests.eventually("telemetry after the war") {
                harness.published >= before + 3 && simulator.state.openSockets.values.reduce(0, +) == 3
            }
            #expect(harness.service.health.streamUp == true)
            #expect(harness.recorder.lines.contains { $0.contains("Source online") }, "the recorder sees the supervisor's log")
            let warnings = harness.recorder.lines.filter { $0.hasPrefix("warning") || $0.hasPrefix("error") || $0.hasPrefix("critical") }
            #expect(warnings.isEmpty, "\(warnings)")
        }
    }

    @Test("a gateway restart command: the source goes offline while the gateway is down and online again when it is back")
    func gatewayRestart() async throws {
        try await withSupervisedSource(options: ["poll_interval": .duration(.milliseconds(500))]) { harness in
            let simulator = harness.simulator, service = harness.service
            #expect(try await service.perform(action: "restart_gateway", value: .null, childKey: nil) == 200)
            try await TinyBMSAdapterTests.eventually("the gateway to go down") { simulator.state.gatewayRebooting }
            try await TinyBMSAdapterTests.eventually("the source offline") { service.health.status == .offline }
            #expect(harness.availability.last == "offline")
            do throws(CommandFailure) {
                _ = try await service.perform(action: "restart_gateway", value: .null, childKey: nil)
                Issue.record("a restart during the reboot must fail")
            } catch {
                #expect(error.code == .sourceUnavailable || error.code == .callFailed, "\(error)")
            }
            try await simulator.finishRestart()
            try await TinyBMSAdapterTests.eventually("the source available again, its stream up") {
                service.health.status != .offline && service.health.streamUp == true && harness.availability.last == "online"
            }
            // The fallback poll that failed during the outage no longer counts once the stream is back.
            #expect(service.health.status == .online, "\(service.health.failingEndpoints)")
            #expect(simulator.state.restartRequests == ["gateway"])
        }
    }
}
