import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Sends one request over a pooled async-http-client and reads the whole answer, bounded in
/// time and size. No auth, retry or caching: ``SourceHTTPClient`` layers those on top.
struct HTTPTransport: Sendable {
    /// The client whose pool the request uses.
    let client: HTTPClient
    /// Largest accepted body in bytes; more aborts the transfer with ``SourceError/tooLarge(limit:)``.
    let maxBodySize: Int

    /// Sends `request` and collects the body; the whole exchange must finish within `timeout`.
    func perform(_ request: SourceRequest, timeout: Duration) async throws(SourceError) -> SourceResponse {
        let start = ContinuousClock.now
        do {
            return try await withThrowingTaskGroup(of: SourceResponse.self) { group in
                group.addTask {
                    let response = try await client.execute(makeRequest(request), timeout: TimeAmount(timeout))
                    let body = try await collect(response)
                    return SourceResponse(
                        status: Int(response.status.code),
                        headers: response.headers,
                        body: body,
                        latency: ContinuousClock.now - start
                    )
                }
                // The per-request deadline of async-http-client ends at the response head;
                // this bounds the body too, so a server that stalls mid-body times out.
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw SourceError.timeout(after: timeout)
                }
                guard let first = try await group.next() else { throw SourceError.cancelled }
                group.cancelAll()
                return first
            }
        } catch {
            throw SourceError(transportError: error, timeout: timeout)
        }
    }

    /// Sends `request` and returns as soon as the head is in, for streaming bodies (SSE).
    /// The caller must consume or drop `body`; the head must arrive within `timeout`.
    func open(_ request: SourceRequest, timeout: Duration) async throws(SourceError) -> HTTPClientResponse {
        do {
            return try await client.execute(makeRequest(request), timeout: TimeAmount(timeout))
        } catch {
            throw SourceError(transportError: error, timeout: timeout)
        }
    }

    /// Reads a body to its end, stopping as soon as it grows past ``maxBodySize``.
    func collect(_ response: HTTPClientResponse) async throws -> [UInt8] {
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maxBodySize {
            throw SourceError.tooLarge(limit: maxBodySize)
        }
        var buffer = ByteBuffer()
        for try await chunk in response.body {
            guard buffer.readableBytes + chunk.readableBytes <= maxBodySize else {
                // Leaving the loop drops the iterator, which makes async-http-client close the connection.
                throw SourceError.tooLarge(limit: maxBodySize)
            }
            buffer.writeImmutableBuffer(chunk)
        }
        return Array(buffer.readableBytesView)
    }

    private func makeRequest(_ request: SourceRequest) -> HTTPClientRequest {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        outgoing.headers = request.headers
        if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        return outgoing
    }
}
