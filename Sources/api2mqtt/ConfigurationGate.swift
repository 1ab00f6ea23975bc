import Adapters
import ArgumentParser
import BridgeCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Loads the configuration and refuses to go on with any error: the daemon never starts
/// half-configured. Errors go to standard error, one per line.
enum ConfigurationGate {
    static func load(file: String) throws -> BridgeConfiguration {
        let configuration: BridgeConfiguration
        do {
            configuration = try ConfigLoader.load(file: file)
        } catch {
            printError(error.description)
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
        StandardError.write(line)
    }
}
