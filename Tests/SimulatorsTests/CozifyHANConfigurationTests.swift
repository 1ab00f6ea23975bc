import BridgeCore
import Simulators
import Testing

/// `GET/POST /configuration` and `POST /set-up`.
@Suite("Cozify HAN simulator: configuration and set-up")
struct CozifyHANConfigurationTests {
    static let topKeys: Set<String> = ["type", "v", "t", "s", "p", "m", "e", "w"]
    static let wifiKeys: Set<String> = ["e", "s", "p", "w", "z", "b", "n"]

    @Test("GET /configuration has the documented shape and masks the Wi-Fi password as ***")
    func getShape() async throws {
        try await withHAN { simulator, http in
            let result = try await http.get("/configuration")
            #expect(result.status == 200)
            let json = try #require(result.json)
            #expect(json.keys == Self.topKeys)
            #expect(json["type"]?.string == "HAN_CONFIGURATION")
            #expect(json["v"]?.string == "1.0.1.0")
            #expect(json["t"]?.string != nil)
            #expect(json["s"]?.bool != nil)
            #expect(json["p"]?.number != nil)
            #expect(json["m"]?["f"]?.integer == 25)
            #expect(json["e"]?["e"]?.bool == false)
            #expect(json["e"]?["n"]?["m"]?.string == "dhcp")
            let wifi = try #require(json["w"])
            #expect(wifi.keys == Self.wifiKeys)
            #expect(wifi["p"]?.string == "***")
            #expect(wifi["w"]?.integer != nil)
            #expect(wifi["n"]?["m"]?.string == "dhcp")
            // The password is stored, just never shown.
            let stored = simulator.state.configuration.w.p
            #expect(!stored.isEmpty && stored != "***")
            #expect(!result.text.contains(stored))
        }
    }

    @Test("POST /configuration changes what GET returns; the password stays masked; *** keeps it")
    func postRoundTrip() async throws {
        try await withHAN { simulator, http in
            let body = """
                {"s": false, "p": 0.2, "m": {"f": 35},
                 "e": {"e": true, "n": {"m": "static", "i": "192.168.1.9", "s": "255.255.255.0", "g": "192.168.1.1", "d1": "1.1.1.1"}},
                 "w": {"s": "Attic", "p": "new-secret", "w": 15, "z": true, "b": false}}
                """
            let answer = try await http.post("/configuration", body: body)
            #expect(answer.status == 200)
            #expect(answer.json?.keys == ["success", "message"])
            #expect(answer.json?["success"]?.bool == true)
            #expect(answer.json?["message"]?.string?.isEmpty == false)

            let read = try await http.get("/configuration")
            let json = try #require(read.json)
            #expect(json["s"]?.bool == false)
            #expect(json["p"]?.number == 0.2)
            #expect(json["m"]?["f"]?.integer == 35)
            #expect(json["e"]?["e"]?.bool == true)
            #expect(json["e"]?["n"]?["m"]?.string == "static")
            #expect(json["e"]?["n"]?["i"]?.string == "192.168.1.9")
            #expect(json["e"]?["n"]?["d1"]?.string == "1.1.1.1")
            #expect(json["w"]?["s"]?.string == "Attic")
            #expect(json["w"]?["p"]?.string == "***")
            #expect(json["w"]?["w"]?.integer == 15)
            #expect(json["w"]?["z"]?.bool == true)
            #expect(!read.text.contains("new-secret"))
            #expect(simulator.state.configuration.w.p == "new-secret")
            // The static Ethernet address is what /han reports now.
            #expect(try await http.get("/han").json?["ethIp"]?.string == "192.168.1.9")

            // A password of *** keeps the stored one; fields not sent stay as they are.
            #expect(try await http.post("/configuration", body: #"{"w": {"p": "***", "s": "Cellar"}}"#).status == 200)
            #expect(simulator.state.configuration.w.p == "new-secret")
            #expect(simulator.state.configuration.w.s == "Cellar")
            #expect(simulator.state.configuration.w.w == 15)
            #expect(simulator.state.configuration.m.f == 35)
        }
    }

    @Test("an empty Wi-Fi password reads as an empty string, not ***")
    func emptyPasswordIsNotMasked() async throws {
        try await withHAN { _, http in
            let answer = try await http.post("/configuration", body: #"{"w": {"p": ""}}"#)
            #expect(answer.status == 200)
            let read = try await http.get("/configuration")
            #expect(read.json?["w"]?["p"]?.string == "")
        }
    }

    @Test(
        "POST /configuration with an invalid body is 400 with {success: false, message} and changes nothing",
        arguments: [
            "not json",
            "",
            "[1, 2]",
            #"{"s": "yes"}"#,
            #"{"p": "cheap"}"#,
            #"{"m": {"f": 2.5}}"#,
            #"{"m": 25}"#,
            #"{"w": {"w": "max"}}"#,
            #"{"e": {"n": {"m": "auto"}}}"#,
            #"{"e": {"n": {"m": "static"}}}"#,
            #"{"s": false, "w": {"e": "on"}}"#,
        ]
    )
    func postInvalid(body: String) async throws {
        try await withHAN { simulator, http in
            let before = simulator.state.configuration
            let answer = try await http.post("/configuration", body: body)
            #expect(answer.status == 400)
            #expect(answer.json?.keys == ["success", "message"])
            #expect(answer.json?["success"]?.bool == false)
            #expect(answer.json?["message"]?.string?.isEmpty == false)
            #expect(simulator.state.configuration == before)
        }
    }

    @Test("POST /set-up sets the Wi-Fi settings; GET /configuration masks the new password")
    func setUp() async throws {
        try await withHAN { simulator, http in
            let answer = try await http.post("/set-up", body: #"{"s": true, "ss": "Barn", "sp": "hay"}"#)
            #expect(answer.status == 200)
            #expect(answer.json?.keys == ["success", "message"])
            #expect(answer.json?["success"]?.bool == true)
            #expect(simulator.state.configuration.w.e)
            #expect(simulator.state.configuration.w.s == "Barn")
            #expect(simulator.state.configuration.w.p == "hay")
            let wifi = try await http.get("/configuration").json?["w"]
            #expect(wifi?["s"]?.string == "Barn")
            #expect(wifi?["p"]?.string == "***")
        }
    }

    @Test(
        "POST /set-up requires s (true), ss and sp: 400 and no change otherwise",
        arguments: [
            #"{"ss": "Barn", "sp": "hay"}"#,
            #"{"s": true, "sp": "hay"}"#,
            #"{"s": true, "ss": "Barn"}"#,
            #"{"s": false, "ss": "Barn", "sp": "hay"}"#,
            #"{"s": "true", "ss": "Barn", "sp": "hay"}"#,
            #"{"s": true, "ss": 7, "sp": "hay"}"#,
            #"{"s": true, "ss": "Barn", "sp": null}"#,
            "{}",
            "nonsense",
        ]
    )
    func setUpInvalid(body: String) async throws {
        try await withHAN { simulator, http in
            let before = simulator.state.configuration
            let answer = try await http.post("/set-up", body: body)
            #expect(answer.status == 400)
            #expect(answer.json?["success"]?.bool == false)
            #expect(answer.json?["message"]?.string?.isEmpty == false)
            #expect(simulator.state.configuration == before)
        }
    }
}
