import Testing

@testable import BridgeCore

@Suite("Environment interpolation")
struct EnvironmentInterpolationTests {
    private let interpolation = EnvironmentInterpolation(environment: ["HOST": "broker", "PORT": "1884", "EMPTY": ""])

    @Test(
        "Replaces references anywhere in a scalar",
        arguments: [
            ("${HOST}", "broker"),
            ("mqtt://${HOST}:${PORT}", "mqtt://broker:1884"),
            ("${MISSING:-fallback}", "fallback"),
            ("${EMPTY:-fallback}", "fallback"),
            ("${HOST:-fallback}", "broker"),
            ("${MISSING:-}", ""),
            ("pre-${HOST}-post", "pre-broker-post"),
            ("$${HOST}", "${HOST}"),
            ("cost: $5 and $${literal}", "cost: $5 and ${literal}"),
            ("no references", "no references"),
            ("${EMPTY}", ""),
        ]
    )
    func replaces(text: String, expected: String) {
        let result = interpolation.interpolate(text)
        #expect(result.failures.isEmpty)
        #expect(result.text == expected)
    }

    @Test("Reports every undefined variable, a missing brace and a bad name")
    func failures() {
        #expect(interpolation.interpolate("${A}/${B}").failures == [.undefined(name: "A"), .undefined(name: "B")])
        #expect(interpolation.interpolate("x${HOST").failures == [.unterminated])
        #expect(interpolation.interpolate("${1X}").failures == [.invalidName("1X")])
        #expect(interpolation.interpolate("${}").failures == [.invalidName("")])
    }

    @Test("The loader interpolates values with defaults and mid-string")
    func loaderInterpolates() throws {
        let yaml = """
            mqtt:
              url: mqtt://${BROKER_HOST:-localhost}:${BROKER_PORT:-1883}
              client_id: api2mqtt-${INSTANCE}
              base_topic: ${BASE:-api2mqtt}/$${literal}
              keepalive: ${KEEPALIVE:-30s}
              username: ${MQTT_USERNAME:-}
            """
        let configuration = try #require(
            ConfigTestSupport.load(yaml, environment: ["INSTANCE": "garage", "BROKER_PORT": "1884"])
        )
        #expect(configuration.mqtt.url == BrokerURL(scheme: .mqtt, host: "localhost", port: 1884))
        #expect(configuration.mqtt.clientID == "api2mqtt-garage")
        #expect(configuration.mqtt.keepalive == .seconds(30))
        #expect(configuration.mqtt.username == nil, "a plain ${VAR:-} that comes out empty is not given")
        #expect(configuration.mqtt.baseTopic == "api2mqtt/${literal}")
    }

    @Test("$${ keeps a literal ${ in a value")
    func escape() throws {
        let yaml = "mqtt: { url: 'mqtt://b', client_id: 'id-$${NOT_A_VAR}' }"
        #expect(ConfigTestSupport.load(yaml)?.mqtt.clientID == "id-${NOT_A_VAR}")
    }

    @Test("Interpolated values are checked like written ones")
    func interpolatedValuesAreValidated() {
        let yaml = "mqtt:\n  url: mqtt://b\n  keepalive: ${KEEPALIVE}\n"
        #expect(
            ConfigTestSupport.errors(yaml, environment: ["KEEPALIVE": "soon"]) == [
                "test.yaml:3:14: mqtt.keepalive: expected a duration like 10s, 5m or 1h30m, got 'soon'"
            ]
        )
    }
}
