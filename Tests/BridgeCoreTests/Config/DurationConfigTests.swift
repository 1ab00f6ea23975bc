import Testing

@testable import BridgeCore

@Suite("Duration in configuration syntax")
struct DurationConfigTests {
    @Test(
        "Parses single units and combinations",
        arguments: [
            ("500ms", Duration.milliseconds(500)), ("10s", .seconds(10)), ("5m", .seconds(300)),
            ("1h", .seconds(3600)), ("1d", .seconds(86_400)), ("1m30s", .seconds(90)),
            ("1h30m", .seconds(5400)), ("1s500ms", .milliseconds(1500)), ("0s", .zero),
        ]
    )
    func parses(text: String, expected: Duration) {
        #expect(Duration(configString: text) == expected)
    }

    @Test(
        "Rejects bare numbers, unknown units, wrong order and junk",
        arguments: ["10", "", "abc", "10x", "s", "1.5s", "30s1m", "1m1m", "-5s", "10 s", "5S", "99999999999999d"]
    )
    func rejects(text: String) {
        #expect(Duration(configString: text) == nil)
    }

    @Test(
        "Writes the largest exact unit so the text parses back",
        arguments: [
            (Duration.seconds(90), "90s"), (.seconds(300), "5m"), (.milliseconds(1500), "1500ms"),
            (.seconds(86_400), "1d"), (.seconds(65535), "65535s"), (.zero, "0s"),
        ]
    )
    func describes(duration: Duration, expected: String) {
        #expect(duration.configDescription == expected)
        #expect(Duration(configString: expected) == duration)
    }
}
