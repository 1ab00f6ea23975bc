/// A byte-level parser of `text/event-stream` (WHATWG HTML §9.2.6), fed in chunks of any size.
///
/// Handles LF, CR and CRLF line ends (a CRLF split across two chunks counts once), a leading
/// byte order mark, comments (`:` lines), multi-line `data`, `event`, `id` (ignored when it
/// contains NUL; sticky across events) and `retry` (digits only). A line without a colon is a
/// field with an empty value; one space after the colon is dropped. An event is dispatched at
/// a blank line and only when it has data. The parser is a value: copy it to fork the state.
///
/// ```swift
/// var parser = SSEParser()
/// for try await chunk in response.body {
///     for event in parser.feed(chunk.readableBytesView) { handle(event) }
/// }
/// ```
public struct SSEParser: Sendable {
    /// The last event ID seen: send it as `Last-Event-ID` when reconnecting.
    public private(set) var lastEventID = ""
    /// The reconnection delay the server asked for with `retry:`, if any.
    public private(set) var reconnectionTime: Duration?

    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var eventType = ""
    private var atStreamStart = true
    private var lastByteWasCR = false

    /// Creates a parser at the start of a stream.
    public init() {}

    /// Bytes held for an incomplete line or event, to bound memory on a misbehaving stream.
    public var bufferedByteCount: Int { line.count + data.count }

    /// Parses the next chunk and returns the events it completes.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [SSEEvent] {
        if let events = bytes.withContiguousStorageIfAvailable({ feed(buffer: $0) }) {
            return events
        }
        return Array(bytes).withUnsafeBufferPointer { feed(buffer: $0) }
    }

    /// The non-generic hot loop: copies runs of ordinary bytes at once, stops at CR and LF.
    private mutating func feed(buffer: UnsafeBufferPointer<UInt8>) -> [SSEEvent] {
        var events: [SSEEvent] = []
        var segmentStart = 0
        for index in buffer.indices {
            let byte = buffer[index]
            guard byte == 0x0A || byte == 0x0D else { continue }
            if index > segmentStart {
                line.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[segmentStart..<index]))
                lastByteWasCR = false
            }
            segmentStart = index + 1
            if byte == 0x0A, lastByteWasCR {
                lastByteWasCR = false  // second half of a CRLF, possibly split across chunks
                continue
            }
            lastByteWasCR = byte == 0x0D
            endLine(into: &events)
        }
        if segmentStart < buffer.count {
            line.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[segmentStart...]))
            lastByteWasCR = false
        }
        return events
    }

    /// Starts a new connection: drops any partial line or event, keeps ``lastEventID`` and
    /// ``reconnectionTime`` (as a browser does when it reconnects).
    public mutating func reset() {
        line.removeAll(keepingCapacity: true)
        data.removeAll(keepingCapacity: true)
        eventType = ""
        atStreamStart = true
        lastByteWasCR = false
    }

    private mutating func endLine(into events: inout [SSEEvent]) {
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        defer { line.removeAll(keepingCapacity: true) }
        guard let first = line.first else {
            dispatch(into: &events)
            return
        }
        if first == UInt8(ascii: ":") { return }  // comment
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = []
        }
        process(field: field, value: value)
    }

    private mutating func process(field: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        if field.elementsEqual("data".utf8) {
            data.append(contentsOf: value)
            data.append(0x0A)
        } else if field.elementsEqual("event".utf8) {
            eventType = String(decoding: value, as: UTF8.self)
        } else if field.elementsEqual("id".utf8) {
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        } else if field.elementsEqual("retry".utf8) {
            guard !value.isEmpty, value.count <= 12, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return }
            let milliseconds = value.reduce(0) { $0 * 10 + Int64($1 - 0x30) }
            reconnectionTime = .milliseconds(milliseconds)
        }
    }

    private mutating func dispatch(into events: inout [SSEEvent]) {
        defer { eventType = "" }
        guard !data.isEmpty else { return }
        data.removeLast()  // the line feed after the last data line
        events.append(
            SSEEvent(
                type: eventType.isEmpty ? "message" : eventType,
                data: String(decoding: data, as: UTF8.self),
                id: lastEventID.isEmpty ? nil : lastEventID
            )
        )
        data.removeAll(keepingCapacity: true)
    }
}
