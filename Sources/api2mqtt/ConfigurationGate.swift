import Adapters
import ArgumentParser
import BridgeCore

import Foundation

/// Loads the configuration and refuses to go on with any error: the daemon never starts
/// half-configured. Errors go to standard error, one per line.
enum ConfigurationGate {
    /// Source types this build has an adapter for. Until an adapter exists, an enabled source of
    /// its type is a configuration error rather than a silently idle source.
    static var implementedSourceTypes: Set<SourceType> { SourceRegistry.implemented }

    static func load(file: String) throws -> BridgeConfiguration {
        let configuration: BridgeConfiguration
        do {
            configuration = try ConfigLoader.load(file: file)
        } catch {
            printError(error.description)
            throw ExitCode.failure
        }
        let unsupported = configuration.sources.enumerated().filter { _, source in
            source.enabled && !implementedSourceTypes.contains(source.type)
        }
        if !unsupported.isEmpty {
            for (index, source) in unsupported {
                printError(
                    "\(file): sources[\(index)].type: source '\(source.id)' of type \(source.type.rawValue) "
                        + "is not implemented in this build yet (set enabled: false to keep it in the file)")
            }
            throw ExitCode.failure
        }
        // The mappings of enabled sources load, and read only endpoints their adapters serve.
        do {
            _ = try loadMappings(configuration)
        } catch {
            printError(String(describing: error))
            throw ExitCode.failure
        }
        return configuration
    }

    static func printError(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        FileHandle.standardError.write(Data(line.utf8))
    }
}
