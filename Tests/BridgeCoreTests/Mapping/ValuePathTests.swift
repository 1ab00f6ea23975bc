import Testing

@testable import BridgeCore

@Suite("ValuePath")
struct ValuePathTests {
    private let document = MappingTestSupport.json(
        """
        {
          "pi": [1520.5, 12.25],
          "battery": {"voltage_mv": 52000, "status": "DISCHARGING"},
          "connectors": [
            {"connector_id": 1, "status": "Available", "name": "CCS"},
            {"connector_id": 2, "status": "Charging"}
          ],
          "cells": [{"index": 0, "voltage_mv": 3250}, {"index": 1, "voltage_mv": 3248}],
          "cell_balancing": [false, true],
          "odd.key": {"x y": 7}
        }
        """
    )

    private func resolve(_ path: String) throws -> JSONValue? {
        try ValuePath(parsing: path).resolve(in: document)
    }

    @Test("Follows object keys and array indexes")
    func keysAndIndexes() throws {
        #expect(try resolve("pi[0]") == .number(1520.5))
        #expect(try resolve("pi[-1]") == .number(12.25))
        #expect(try resolve("battery.voltage_mv") == .number(52000))
        #expect(try resolve("battery.missing") == nil)
        #expect(try resolve("pi[5]") == nil)
        #expect(try resolve("battery[0]") == nil)
    }

    @Test("Addresses a list item by a key")
    func itemByKey() throws {
        #expect(try resolve("connectors[connector_id=2].status") == .string("Charging"))
        #expect(try resolve("connectors[connector_id=2.0].status") == .string("Charging"))
        #expect(try resolve("connectors[name=\"CCS\"].connector_id") == .number(1))
        #expect(try resolve("connectors[connector_id=3].status") == nil)
    }

    @Test("Quoted keys hold characters plain keys cannot")
    func quotedKeys() throws {
        #expect(try resolve(#"["odd.key"]['x y']"#) == .number(7))
    }

    @Test("A wildcard collects every element")
    func wildcard() throws {
        #expect(try resolve("cells[*].voltage_mv") == [3250, 3248])
        #expect(try resolve("missing[*]") == .array([]))
        let matches = try ValuePath(parsing: "cells[*]").resolveAll(in: ValuePath.Context(document: document))
        #expect(matches.map(\.index) == [0, 1])
    }

    @Test("Child placeholders read the current child's position and id")
    func childPlaceholders() throws {
        let item = document["cells"]?[1] ?? .null
        let context = ValuePath.Context(document: document, item: item, index: 1, childKey: "2")
        #expect(try ValuePath(parsing: "voltage_mv").resolve(in: context) == .number(3248))
        #expect(try ValuePath(parsing: "@").resolve(in: context) == item)
        #expect(try ValuePath(parsing: "$.cell_balancing[$index]").resolve(in: context) == .bool(true))
        #expect(try ValuePath(parsing: "$.connectors[connector_id=$child].status").resolve(in: context) == .string("Charging"))
        #expect(try ValuePath(parsing: "$.battery.status").resolve(in: context) == .string("DISCHARGING"))
    }

    @Test("A malformed path names the problem and its position", arguments: [
        ("pi[0", "invalid path 'pi[0': expected ']' at character 5"),
        ("pi[x]", "invalid path 'pi[x]': expected '=' after 'x' (write [x=value] to pick a list item, or .x for a key) at character 5"),
        ("a..b", "invalid path 'a..b': expected a key, got '.' at character 3"),
        ("", "invalid path '': the path is empty at character 1"),
        ("a.", "invalid path 'a.': expected a key after '.' at character 3"),
        ("a b", "invalid path 'a b': unexpected ' ' (use '.' between keys and [n] for array elements) at character 2"),
        ("a[$idx]", "invalid path 'a[$idx]': unknown placeholder '$idx' (inside [] only $index is known) at character 3"),
        ("a['x]", "invalid path 'a['x]': unterminated quote at character 3"),
        ("$x", "invalid path '$x': expected '.' or '[' after '$' at character 2"),
    ])
    func parseErrors(path: String, message: String) {
        do {
            _ = try ValuePath(parsing: path)
            Issue.record("'\(path)' parsed")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("Knows when it has a wildcard or needs a child")
    func properties() throws {
        #expect(try ValuePath(parsing: "cells[*]").hasWildcard)
        #expect(try !ValuePath(parsing: "cells[0]").hasWildcard)
        #expect(try ValuePath(parsing: "a[$index]").usesChild)
        #expect(try ValuePath(parsing: "a[id=$child]").usesChild)
        #expect(try !ValuePath(parsing: "a[id=2]").usesChild)
    }
}
