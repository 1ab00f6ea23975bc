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
}
