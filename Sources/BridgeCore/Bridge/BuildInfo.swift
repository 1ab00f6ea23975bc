#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What this binary is: its version and the commit it was built from.
public struct BuildInfo: Sendable, Hashable, Encodable {
    public var version: String
    public var commit: String

    public init(version: String, commit: String) {
        self.version = version
        self.commit = commit
    }

    /// The version of this source tree.
    public static let version = "0.1.0"

    /// The running binary's build info. The commit comes from `API2MQTT_COMMIT` (set by the
    /// container build and the scripts), else `unknown`.
    public static var current: BuildInfo {
        BuildInfo(version: version, commit: ProcessInfo.processInfo.environment["API2MQTT_COMMIT"] ?? "unknown")
    }
}
