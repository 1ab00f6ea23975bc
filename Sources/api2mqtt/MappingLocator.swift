#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Finds the built-in mapping files: `API2MQTT_MAPPINGS`, then next to the installed binary
/// (`../share/api2mqtt/mappings`), `/usr/share/api2mqtt/mappings` (the container), and finally
/// `Mappings/` in the current directory or the source tree this binary was built from.
enum MappingLocator {
    static func builtInDirectory() -> String? {
        var candidates: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["API2MQTT_MAPPINGS"] { candidates.append(fromEnvironment) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent("../share/api2mqtt/mappings").standardized.path)
        candidates.append("/usr/share/api2mqtt/mappings")
        candidates.append(FileManager.default.currentDirectoryPath + "/Mappings")
        candidates.append(URL(fileURLWithPath: #filePath).appendingPathComponent("../../../Mappings").standardized.path)
        var isDirectory = false
        return candidates.first { FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory }
    }
}
