import SourceKit
import Testing

@Suite("SSEParser")
struct SSEParserTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let stream: [UInt8]
        let expected: [SSEEvent]
        var testDescription: String { name }

        init(_ name: String, _ stream: String, _ expected: [SSEEvent]) {
            self.name = name
            self.stream = Array(stream.utf8)
            self.expected = expected
        }

        init(_ name: String, bytes: [UInt8], _ expected: [SSEEvent]) {
            self.name = name
            self.stream = bytes
            self.expected = expected
        }
    }

    static let cases: [Case] = [
        Case("one event", "data: hello\n\n", [SSEEvent(data: "hello")]),
        Case("multi-line data joined with LF", "data: a\ndata: b\ndata: c\n\n", [SSEEvent(data: "a\nb\nc")]),
        Case("named event", "event: HAN_METER_MESSAGE\ndata: {\"p\":1}\n\n", [SSEEvent(type: "HAN_METER_MESSAGE", data: "{\"p\":1}")]),
        Case("CRLF line ends", "data: a\r\ndata: b\r\n\r\n", [SSEEvent(data: "a\nb")]),
        Case("CR line ends", "data: a\rdata: b\r\rdata: c\r\r", [SSEEvent(data: "a\nb"), SSEEvent(data: "c")]),
        Case("mixed line ends", "data: a\r\ndata: b\rdata: c\n\n", [SSEEvent(data: "a\nb\nc")]),
        Case("leading BOM ignored", bytes: [0xEF, 0xBB, 0xBF] + Array("data: x\n\n".utf8), [SSEEvent(data: "x")]),
        Case("BOM only at stream start", bytes: Array("data: x\n\n".utf8) + [0xEF, 0xBB, 0xBF] + Array("data: y\n\n".utf8), [SSEEvent(data: "x")]),
        Case("comments ignored", ": keep-alive\n\n:another\ndata: y\n\n", [SSEEvent(data: "y")]),
        Case("no space after colon", "data:x\n\n", [SSEEvent(data: "x")]),
        Case("only one space dropped", "data:  x\n\n", [SSEEvent(data: " x")]),
        Case("field without colon is empty value", "data\n\n", [SSEEvent(data: "")]),
        Case("two empty data lines", "data\ndata\n\n", [SSEEvent(data: "\n")]),
        Case("event without data is not dispatched", "event: ping\n\ndata: y\n\n", [SSEEvent(data: "y")]),
        Case("unknown fields ignored", "foo: bar\ndata: z\nbaz\n\n", [SSEEvent(data: "z")]),
        Case(
            "id is sticky and resettable",
            "id: 5\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
            [SSEEvent(data: "a", id: "5"), SSEEvent(data: "b", id: "5"), SSEEvent(data: "c")]
        ),
        Case(
            "id containing NUL ignored",
            "id: 1\ndata: a\n\nid: 2\u{0}x\ndata: b\n\n",
            [SSEEvent(data: "a", id: "1"), SSEEvent(data: "b", id: "1")]
        ),
        Case("incomplete trailing event discarded", "data: a\n\ndata: b", [SSEEvent(data: "a")]),
        Case("multi-byte UTF-8", "data: héllo ☃ 🔋\n\n", [SSEEvent(data: "héllo ☃ 🔋")]),
        Case("event type resets after dispatch", "event: x\ndata: 1\n\ndata: 2\n\n", [SSEEvent(type: "x", data: "1"), SSEEvent(data: "2")]),
        Case("retry alone dispatches nothing", "retry: 1500\n\n", []),
    ]

    static let chunkSizes = [1, 2, 3, 7, 1000]

    @Test("parses spec cases fed in chunks", arguments: cases, chunkSizes)
    func parses(_ testCase: Case, chunkSize: Int) {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        var index = 0
        while index < testCase.stream.count {
            let end = min(index + chunkSize, testCase.stream.count)
            events += parser.feed(testCase.stream[index..<end])
            index = end
        }
        #expect(events == testCase.expected)
    }

    @Test("CRLF split across chunks counts as one line end")
    func splitCRLF() {
        var parser = SSEParser()
        var events = parser.feed(Array("data: a\r".utf8))
        events += parser.feed(Array("\ndata: b\r".utf8))
        events += parser.feed(Array("\n\r".utf8))
        events += parser.feed(Array("\n".utf8))
        #expect(events == [SSEEvent(data: "a\nb")])
    }

    @Test("retry sets the reconnection time; non-digits are ignored")
    func retry() {
        var parser = SSEParser()
        _ = parser.feed(Array("retry: 1500\n\n".utf8))
        #expect(parser.reconnectionTime == .milliseconds(1500))
        _ = parser.feed(Array("retry: 15x\n\nretry: -1\n\nretry:\n\n".utf8))
        #expect(parser.reconnectionTime == .milliseconds(1500))
    }

    @Test("reset keeps the last event id but drops a partial event")
    func reset() {
        var parser = SSEParser()
        _ = parser.feed(Array("id: 7\ndata: a\n\ndata: partial".utf8))
        parser.reset()
        let events = parser.feed(Array("data: b\n\n".utf8))
        #expect(parser.lastEventID == "7")
        #expect(events == [SSEEvent(data: "b", id: "7")])
    }

    @Test("buffered bytes grow with an unterminated line")
    func buffered() {
        var parser = SSEParser()
        _ = parser.feed([UInt8](repeating: UInt8(ascii: "x"), count: 500))
        #expect(parser.bufferedByteCount == 500)
    }
}
