import Adapters
import BridgeCore
import Foundation
import Logging
import Simulators
import SourceKit
import Testing
import TestSupport

/// The Cozify HAN adapter against its simulator over real loopback sockets.
@Suite("CozifyHANAdapter against the simulator", .serialized)
struct CozifyHANAdapterTests {
    func withSimulator<T: Sendable>(
        _ configuration: CozifyHANSimulator.Configuration = .init(telegramInterval: .milliseconds(100)),
        source: (String) -> SourceConfiguration = { url in SourceConfiguration(id: "han", type: .cozifyHAN, url: URL(string: url)) },
        _ body: @Sendable (CozifyHANSimulator, CozifyHANAdapter) async throws -> T
    ) async throws -> T {
        let simulator = CozifyHANSimulator(configuration: configuration)
        let port = try await simulator.start()
        let pool = HTTPClientPool()
        do {
            let adapter = try CozifyHANAdapter(
                configuration: source("http://127.0.0.1:\(port)"), pool: pool, logger: Logger(label: "test"))
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

    @Test("polled endpoints parse into documents; /meter before the first telegram is 'no data yet', not an error")
    func polling() async throws {
        let quiet = CozifyHANSimulator.Configuration(telegramInterval: .seconds(3600), meterDelay: nil)
        try await withSimulator(quiet) { simulator, adapter in
            for endpoint in ["meter", "meter_id"] {
                do {
                    _ = try await adapter.read(endpoint: endpoint)
                    Issue.record("\(endpoint) before the first telegram should be 'no data yet'")
                } catch let failure as SourceFailure {
                    guard case .noDataYet = failure else {
                        Issue.record("\(endpoint): \(failure)")
                        continue
                    }
                }
            }
            _ = simulator.emitTelegramNow()
            let meter = try #require(try await adapter.read(endpoint: "meter"))
            #expect(meter["ic"]?.numberValue == simulator.state.lastTelegram?.ic)
            for endpoint in ["meter_id", "han", "health", "configuration"] {
                #expect(try await adapter.read(endpoint: endpoint)?.objectValue != nil, "\(endpoint)")
            }
        }
    }

    @Test("the SSE stream delivers meter messages as the `meter` endpoint, skipping other types")
    func sseStream() async throws {
        try await withSimulator { simulator, adapter in
            let stream = try #require(adapter.stream())
            var meters: [JSONValue] = []
            for try await document in stream {
                if document.endpoint == "meter" { meters.append(document.document) }
                if meters.count == 3 { break }
            }
            #expect(meters.allSatisfy { $0["type"] == "HAN_METER_MESSAGE" })
            let sent = simulator.state.telegrams.map(\.ic)
            #expect(meters.compactMap { $0["ic"]?.numberValue }.allSatisfy { sent.contains($0) })
        }
    }

    @Test("stream messages: the snapshot as `han`, newer firmware's configuration as `configuration`, OTA messages skipped")
    func streamMessageTypes() async throws {
        try await withSimulator { simulator, adapter in
            simulator.faults.enable(.unknownMessageTypes)
            let stream = try #require(adapter.stream())
            var documents: [SourceDocument] = []
            for try await document in stream {
                documents.append(document)
                if documents.filter({ $0.endpoint == "meter" }).count == 3 { break }
            }
            let endpoints = documents.map(\.endpoint)
            #expect(Array(endpoints.prefix(2)) == ["han", "configuration"], "\(endpoints)")
            #expect(Set(endpoints) == ["han", "configuration", "meter"], "OTA messages are skipped: \(endpoints)")
            #expect(documents.filter { $0.endpoint != "meter" }.allSatisfy { !$0.confirmsStream })
            #expect(documents.filter { $0.endpoint == "meter" }.allSatisfy { $0.confirmsStream })
            let configuration = try #require(documents.first { $0.endpoint == "configuration" }?.document)
            #expect(configuration["p"]?.numberValue == simulator.state.configuration.p)
        }
    }

    @Test("a silent stream stays open with only its snapshot; the adapter asks the supervisor to end it after 3 telegram intervals")
    func silentStream() async throws {
        let quiet = CozifyHANSimulator.Configuration(telegramInterval: .seconds(3600), meterDelay: nil)
        let source: (String) -> SourceConfiguration = { url in
            SourceConfiguration(id: "han", type: .cozifyHAN, url: URL(string: url), options: ["poll_interval": .duration(.seconds(7))])
        }
        try await withSimulator(quiet, source: source) { _, adapter in
            #expect(adapter.streamSilence == .seconds(21))
            let stream = try #require(adapter.stream())
            var iterator = stream.makeAsyncIterator()
            let snapshot = try #require(try await iterator.next())
            #expect(snapshot.endpoint == "han" && !snapshot.confirmsStream)
        }
    }

    @Test("a configuration command POSTs only its field; the simulator's configuration changes")
    func configurationCommand() async throws {
        try await withSimulator { simulator, adapter in
            let status = try await adapter.execute(RenderedCall(method: "POST", path: "/configuration", body: ["p": 0.25]))
            #expect(status == 200)
            #expect(simulator.state.configuration.p == 0.25)
            let posts = simulator.requests.requests(method: "POST", path: "/configuration")
            #expect(posts.count == 1)
        }
    }

    @Test("a command to a reader that is down reports call_failed, with no secret in the message")
    func downReader() async throws {
        try await withSimulator(
            source: { url in
                SourceConfiguration(
                    id: "han", type: .cozifyHAN, url: URL(string: url), timeout: .seconds(2),
                    options: ["token": .secret(Secret("very-secret-token-42"))])
            }
        ) { simulator, adapter in
            await simulator.stopAbruptly()
            do throws(CommandFailure) {
                _ = try await adapter.execute(RenderedCall(method: "POST", path: "/configuration", body: ["s": true]))
                Issue.record("expected a failure")
            } catch {
                #expect(error.code == .callFailed || error.code == .timeout)
                #expect(!error.message.contains("very-secret-token-42"))
            }
        }
    }
}
