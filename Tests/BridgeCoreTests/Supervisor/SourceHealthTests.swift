import BridgeCore
import Testing

@Suite("SourceHealth transitions")
struct SourceHealthTests {
    @Test("a fallback poll that failed while the stream was down stops counting once the stream is back: online, not degraded for good")
    func streamBackClearsFallbackFailure() {
        var health = SourceHealth()
        _ = health.stream(up: true)
        _ = health.succeeded(endpoint: nil, at: .now)
        #expect(health.status == .online)
        _ = health.stream(up: false, error: "stream ended")
        _ = health.failed(endpoint: "meter", error: "connection refused")
        #expect(health.status == .degraded)
        _ = health.stream(up: true, replacing: ["meter"])
        _ = health.succeeded(endpoint: nil, at: .now)
        #expect(health.status == .online, "\(health.failingEndpoints)")
    }

    @Test("an endpoint the stream does not replace keeps its failure until it is read again")
    func otherEndpointsStillCount() {
        var health = SourceHealth()
        _ = health.succeeded(endpoint: "health", at: .now)
        _ = health.failed(endpoint: "health", error: "HTTP 500")
        _ = health.stream(up: true, replacing: ["meter"])
        _ = health.succeeded(endpoint: nil, at: .now)
        #expect(health.status == .degraded)
        _ = health.succeeded(endpoint: "health", at: .now)
        #expect(health.status == .online)
    }

    @Test("every endpoint of one poll round failing turns the source offline at once; three failures in a row still do")
    func failedRoundIsOffline() {
        var health = SourceHealth(roundEndpoints: ["asset", "uptime"])
        _ = health.succeeded(endpoint: "asset", at: .now)
        _ = health.succeeded(endpoint: "uptime", at: .now)
        #expect(health.status == .online)
        _ = health.failed(endpoint: "asset", error: "HTTP 500")
        #expect(health.status == .degraded)
        #expect(health.failed(endpoint: "uptime", error: "HTTP 500") == .offline)
        #expect(health.succeeded(endpoint: "asset", at: .now) == .degraded, "back with the first success")

        var counted = SourceHealth(roundEndpoints: ["meter"])
        _ = counted.succeeded(endpoint: "meter", at: .now)
        _ = counted.failed(endpoint: "han", error: "HTTP 500")
        _ = counted.failed(endpoint: "health", error: "HTTP 500")
        #expect(counted.status == .degraded)
        #expect(counted.failed(endpoint: "configuration", error: "HTTP 500") == .offline)
    }

    @Test("an endpoint outside the round failing alone, with successes between, only degrades the source")
    func loneFailureDegrades() {
        var health = SourceHealth(roundEndpoints: ["telemetry"])
        _ = health.succeeded(endpoint: "telemetry", at: .now)
        for _ in 0..<5 {
            _ = health.failed(endpoint: "can", error: "HTTP 404")
            _ = health.succeeded(endpoint: nil, at: .now)
        }
        #expect(health.status == .degraded)
        // A success between the round's failures: not a failed round.
        var split = SourceHealth(roundEndpoints: ["asset", "uptime"])
        _ = split.succeeded(endpoint: "asset", at: .now)
        _ = split.failed(endpoint: "asset", error: "HTTP 500")
        _ = split.succeeded(endpoint: nil, at: .now)
        _ = split.failed(endpoint: "uptime", error: "HTTP 500")
        #expect(split.status == .degraded)
    }
}
