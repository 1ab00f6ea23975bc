import BridgeCore
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// One dispatched server-sent event.
struct SSEEvent: Hashable, Sendable {
    var event: String
    var data: String

    var json: JSON? { JSON.decode(data) }
}

/// A small `text/event-stream` parser: LF/CRLF/CR lines, comments, `event:`, multi-line `data:`, `retry:`.
struct SSEParser: Sendable {
    private var pending: [UInt8] = []
    private var event = ""
    private var data: [String] = []
    private(set) var comments: [String] = []
    private(set) var retry: Int?

    /// Feeds bytes; returns the events they complete.
    mutating func feed(_ bytes: some Collection<UInt8>) -> [SSEEvent] {
        pending.append(contentsOf: bytes)
        var events: [SSEEvent] = []
        while let end = pending.firstIndex(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
            // A CR at the very end may be the first half of a CRLF: wait for the next bytes.
            if pending[end] == UInt8(ascii: "\r"), end == pending.index(before: pending.endIndex) { break }
            let line = String(decoding: pending[..<end], as: UTF8.self)
            var next = pending.index(after: end)
            if pending[end] == UInt8(ascii: "\r"), next < pending.endIndex, pending[next] == UInt8(ascii: "\n") {
                next = pending.index(after: next)
            }
            pending.removeSubrange(..<next)
            if let event = process(line) { events.append(event) }
        }
        return events
    }

    private mutating func process(_ line: String) -> SSEEvent? {
        if line.isEmpty {
            defer {
                event = ""
                data = []
            }
            return data.isEmpty ? nil : SSEEvent(event: event.isEmpty ? "message" : event, data: data.joined(separator: "\n"))
        }
        if line.hasPrefix(":") {
            comments.append(String(line.dropFirst().drop { $0 == " " }))
            return nil
        }
        let (field, value) = Self.split(line)
        switch field {
        case "event": event = value
        case "data": data.append(value)
        case "retry": retry = Int(value)
        default: break
        }
        return nil
    }

    private static func split(_ line: String) -> (String, String) {
        guard let colon = line.firstIndex(of: ":") else { return (line, "") }
        var value = line[line.index(after: colon)...]
        if value.hasPrefix(" ") { value = value.dropFirst() }
        return (String(line[..<colon]), String(value))
    }
}

/// An open `/sse` stream read in the background: the test waits for events as they come, or for the end.
final class SSEStream: Sendable {
    /// How a stream ended.
    enum Ending: Sendable {
        /// The server finished the response normally.
        case finished
        /// The connection broke (or the client cancelled).
        case failed(String)
    }

    private struct State {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        var ending: Ending?
    }

    /// The response status.
    let status: Int
    /// The response header fields by lower-case name.
    let headers: [String: String]

    private let state = Mutex(State())
    private let reader = Mutex<Task<Void, Never>?>(nil)

    private init(status: Int, headers: [String: String]) {
        self.status = status
        self.headers = headers
    }

    /// Opens `path` and starts reading it.
    static func open(_ http: TestHTTPClient, _ path: String = "/sse", headers: [String: String] = [:]) async throws -> SSEStream {
        let response = try await http.stream(path, headers: headers)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        let stream = SSEStream(status: Int(response.status.code), headers: fields)
        let body = response.body
        let task = Task { [stream] in
            do {
                for try await buffer in body {
                    stream.received(Array(buffer.readableBytesView))
                }
                stream.ended(.finished)
            } catch {
                stream.ended(.failed(String(describing: error)))
            }
        }
        stream.reader.withLock { $0 = task }
        return stream
    }

    /// The events so far.
    var events: [SSEEvent] { state.withLock { $0.events } }

    /// The comment lines so far (without the leading `:`).
    var comments: [String] { state.withLock { $0.parser.comments } }

    /// The last `retry:` value.
    var retry: Int? { state.withLock { $0.parser.retry } }

    /// How the stream ended; `nil` while it is open.
    var ending: Ending? { state.withLock { $0.ending } }

    /// Waits until at least `count` events arrived and returns all of them.
    /// - Throws: ``Hang`` when they do not arrive (also when the stream ends first).
    @discardableResult
    func events(atLeast count: Int) async throws -> [SSEEvent] {
        try await eventually("\(count) SSE events (have \(events.count), ended: \(String(describing: ending)))") {
            let (events, ending) = state.withLock { ($0.events, $0.ending) }
            if events.count < count, let ending { throw StreamEnded(ending: ending, received: events.count) }
            return events.count >= count
        }
        return events
    }

    /// Waits until an event satisfying `predicate` arrived and returns it.
    @discardableResult
    func first(where predicate: @escaping @Sendable (SSEEvent) -> Bool) async throws -> SSEEvent {
        var found: SSEEvent?
        try await eventually("an SSE event matching the condition") {
            let (events, ending) = state.withLock { ($0.events, $0.ending) }
            found = events.first(where: predicate)
            if found == nil, let ending { throw StreamEnded(ending: ending, received: events.count) }
            return found != nil
        }
        guard let found else { throw Hang(what: "an SSE event matching the condition", limit: hangLimit) }
        return found
    }

    /// Waits until the stream ended and says how.
    func end() async throws -> Ending {
        try await eventually("the end of the SSE stream") { ending != nil }
        return ending ?? .failed("unknown")
    }

    /// Closes the stream from the client's side.
    func cancel() {
        reader.withLock { $0 }?.cancel()
    }

    private func received(_ bytes: [UInt8]) {
        state.withLock { state in
            state.events += state.parser.feed(bytes)
        }
    }

    private func ended(_ ending: Ending) {
        state.withLock { $0.ending = $0.ending ?? ending }
    }
}

/// The stream ended before what a test waited for arrived.
struct StreamEnded: Error, CustomStringConvertible {
    let ending: SSEStream.Ending
    let received: Int

    var description: String { "the stream ended (\(ending)) after \(received) events" }
}

extension SSEStream.Ending {
    var isFinished: Bool {
        if case .finished = self { true } else { false }
    }
}
