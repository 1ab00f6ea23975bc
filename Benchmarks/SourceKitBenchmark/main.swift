// SourceKitBenchmark: throughput and latency of SourceKit's HTTP layer against a loopback
// Hummingbird server, and SSE parsing speed. Run with `swift run -c release SourceKitBenchmark`.
//
// Figures are for comparison between builds on the same machine, never for assertions.

import Foundation
import Hummingbird
import Logging
import NIOCore
import SourceKit

let sequentialRequests = 2_000
let concurrentWorkers = 8
let requestsPerWorker = 250
let parsedEvents = 100_000
let streamedEvents = 20_000

let quiet: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()

/// A 1 KB JSON document, like a meter reading.
let document =
    "{\"items\":["
    + (0..<12).map { #"{"id":"dev-\#($0)","power_w":1234.5,"online":true,"name":"device \#($0)"}"# }
    .joined(separator: ",") + "],\"total_count\":12}"

func percentile(_ sorted: [Duration], _ p: Double) -> Duration {
    guard !sorted.isEmpty else { return .zero }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func milliseconds(_ duration: Duration) -> String {
    let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    return String(format: "%.3f ms", value)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func report(_ name: String, count: Int, elapsed: Duration, latencies: [Duration]) {
    let sorted = latencies.sorted()
    let rate = Double(count) / seconds(elapsed)
    print(
        "\(name): \(count) requests in \(String(format: "%.2f", seconds(elapsed))) s = \(String(format: "%.0f", rate)) req/s, "
            + "p50 \(milliseconds(percentile(sorted, 0.5))), p99 \(milliseconds(percentile(sorted, 0.99)))"
    )
}

func sseStream(count: Int) -> [UInt8] {
    var text = ""
    for id in 1...count {
        text +=
            "event: HAN_METER_MESSAGE\r\nid: \(id)\r\ndata: {\"type\":\"HAN_METER_MESSAGE\",\"pi\":[1234,0,0],\"ic\":12345.678,\"ts\":\(id)}\r\n\r\n"
        if id % 50 == 0 { text += ": keep-alive\r\n\r\n" }
    }
    return Array(text.utf8)
}

func benchmarkParser() {
    let bytes = sseStream(count: parsedEvents)
    var parser = SSEParser()
    var events = 0
    let start = ContinuousClock.now
    var index = 0
    while index < bytes.count {
        let end = min(index + 4096, bytes.count)
        events += parser.feed(bytes[index..<end]).count
        index = end
    }
    let elapsed = ContinuousClock.now - start
    let rate = Double(events) / seconds(elapsed)
    let megabytes = Double(bytes.count) / 1_048_576 / seconds(elapsed)
    print(
        "SSE parse: \(events) events (\(bytes.count / 1024) KB, 4 KB chunks) in \(milliseconds(elapsed)) = \(String(format: "%.0f", rate)) events/s, \(String(format: "%.1f", megabytes)) MB/s"
    )
}

func runServer(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
    let router = Router()
    let payload = ByteBuffer(string: document)
    router.get("/data") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: payload))
    }
    let stream = ByteBuffer(bytes: sseStream(count: streamedEvents))
    router.get("/sse") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody(byteBuffer: stream))
    }
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        },
        logger: quiet
    )
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { return }
        try await body("http://127.0.0.1:\(port)")
        group.cancelAll()
    }
}

benchmarkParser()

try await runServer { base in
    let pool = HTTPClientPool()
    let client = SourceHTTPClient(
        configuration: .init(baseURL: try SourceURL(base), usesETags: false),
        pool: pool,
        logger: quiet
    )
    // Warm up the connection pool.
    for _ in 0..<100 { _ = try await client.get("/data") }

    var latencies: [Duration] = []
    latencies.reserveCapacity(sequentialRequests)
    let start = ContinuousClock.now
    for _ in 0..<sequentialRequests {
        let begin = ContinuousClock.now
        _ = try await client.get("/data")
        latencies.append(ContinuousClock.now - begin)
    }
    report("GET sequential", count: sequentialRequests, elapsed: ContinuousClock.now - start, latencies: latencies)

    let concurrentStart = ContinuousClock.now
    let concurrent = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for _ in 0..<concurrentWorkers {
            group.addTask {
                var own: [Duration] = []
                for _ in 0..<requestsPerWorker {
                    let begin = ContinuousClock.now
                    _ = try await client.get("/data")
                    own.append(ContinuousClock.now - begin)
                }
                return own
            }
        }
        var all: [Duration] = []
        for try await part in group { all += part }
        return all
    }
    report(
        "GET \(concurrentWorkers) concurrent",
        count: concurrent.count,
        elapsed: ContinuousClock.now - concurrentStart,
        latencies: concurrent
    )

    let sseStart = ContinuousClock.now
    var received = 0
    for try await _ in client.events("/sse") {
        received += 1
        if received == streamedEvents { break }
    }
    let sseElapsed = ContinuousClock.now - sseStart
    print(
        "SSE over loopback: \(received) events in \(milliseconds(sseElapsed)) = \(String(format: "%.0f", Double(received) / seconds(sseElapsed))) events/s"
    )
    print("Counters: \(client.statistics.requests) requests, \(client.statistics.failures) failures")
    await pool.shutdown()
}
