import Adapters
import ArgumentParser
import BridgeCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `api2mqtt mappings lint [DIR]`: loads and lints mapping files (the built-in ones, or a user
/// overlay directory on top of them) and prints every problem as `file:line:column: key: message`.
struct MappingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mappings", abstract: "Work with mapping files.", subcommands: [Lint.self, Render.self])

    /// `api2mqtt mappings render TYPE ENDPOINT FILE`: what a mapping makes of a captured document —
    /// the state JSON per device, as the bridge would publish it — for writing and checking mappings.
    struct Render: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "render", abstract: "Show the state a mapping produces from a captured JSON document.")

        @Argument(help: "The source type (the mapping file's `source:`), e.g. cozify_han.")
        var type: String
        @Argument(help: "The endpoint name the document came from, e.g. meter.")
        var endpoint: String
        @Argument(help: "A file with the JSON document.")
        var file: String
        @Option(help: "A user mapping directory overlaying the built-in mappings.")
        var overlay: String?

        func run() async throws {
            guard let builtIn = MappingLocator.builtInDirectory() else {
                ConfigurationGate.printError("cannot find the built-in Mappings/ directory (set API2MQTT_MAPPINGS)")
                throw ExitCode.failure
            }
            let mappings: [String: MappingFile]
            do {
                mappings = try MappingLoader.load(builtIn: builtIn, overlay: overlay)
            } catch {
                ConfigurationGate.printError(error.description)
                throw ExitCode.failure
            }
            guard let mapping = mappings[type] else {
                ConfigurationGate.printError("no mapping for source type '\(type)' (known: \(mappings.keys.sorted().joined(separator: ", ")))")
                throw ExitCode.failure
            }
            let document: JSONValue
            do {
                document = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
            } catch {
                ConfigurationGate.printError("\(file): \(error)")
                throw ExitCode.failure
            }
            let output = MappingEngine().readings(endpoint: endpoint, document: document, mapping: mapping)
            var devices: [String: [String: JSONValue]] = [:]
            for reading in output.readings {
                devices[reading.childID ?? "", default: [:]][reading.entityID] = reading.value.jsonValue
            }
            for (child, values) in devices.sorted(by: { $0.key < $1.key }) {
                print("\(child.isEmpty ? "<device>" : "<device>_\(child)")\t\(JSONValue.object(values).jsonString)")
            }
            for issue in output.issues { ConfigurationGate.printError("issue: \(issue)") }
        }
    }

    struct Lint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lint",
            abstract: "Check mapping files against the schema and Home Assistant's device-class table.")

        @Argument(help: "A user mapping directory to check as an overlay on the built-in mappings (default: the built-in ones alone).")
        var directory: String?

        @Option(help: "The built-in mappings directory (default: located automatically).")
        var builtIn: String?

        func run() async throws {
            guard let builtIn = builtIn ?? MappingLocator.builtInDirectory() else {
                ConfigurationGate.printError("cannot find the built-in Mappings/ directory (set API2MQTT_MAPPINGS)")
                throw ExitCode.failure
            }
            let served = Dictionary(uniqueKeysWithValues: SourceRegistry.definitions.map { ($0.key.rawValue, $0.value.endpoints) })
            let problems = MappingLinter.check(builtIn: builtIn, overlay: directory, served: served)
            for problem in problems { ConfigurationGate.printError(problem.description) }
            if !problems.isEmpty { throw ExitCode.failure }
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory ?? builtIn))?
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.count ?? 0
            print("\(directory ?? builtIn): OK (\(files) mapping files)")
        }
    }
}

/// `api2mqtt discovery dump --config FILE`: prints every discovery message the configuration and
/// mappings would publish now (the bridge device and each enabled source's main device; child
/// devices appear only once a source has reported them).
struct DiscoveryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discovery", abstract: "Inspect Home Assistant discovery.", subcommands: [Dump.self])

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dump", abstract: "Print every discovery payload the configuration would publish.")

        @Option(name: .shortAndLong, help: "The configuration file.")
        var config: String = "Config/api2mqtt.yaml"

        func run() async throws {
            let configuration: BridgeConfiguration
            do {
                configuration = try ConfigLoader.load(file: config)
            } catch {
                ConfigurationGate.printError(error.description)
                throw ExitCode.failure
            }
            let messages = try await DiscoveryPreview.messages(for: configuration)
            for message in messages {
                print("\(message.topic)\n\(message.payload.jsonString)\n")
            }
            StandardError.write("\(messages.count) discovery messages\n")
        }
    }
}
