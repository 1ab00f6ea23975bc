import Testing

@testable import BridgeCore

@Suite("FilePath")
struct FilePathTests {
    @Test("directory(of:) keeps what NSString.deletingLastPathComponent kept")
    func directory() {
        #expect(FilePath.directory(of: "config.yaml") == "")
        #expect(FilePath.directory(of: "/etc/api2mqtt/config.yaml") == "/etc/api2mqtt")
        #expect(FilePath.directory(of: "conf/config.yaml") == "conf")
        #expect(FilePath.directory(of: "/config.yaml") == "/")
        #expect(FilePath.directory(of: "/etc/api2mqtt/") == "/etc")
        #expect(FilePath.directory(of: "a//b.yaml") == "a")
    }

    @Test("join puts one slash between a folder and a name")
    func join() {
        #expect(FilePath.join("", "x.yaml") == "x.yaml")
        #expect(FilePath.join("/etc", "x.yaml") == "/etc/x.yaml")
        #expect(FilePath.join("/etc/", "x.yaml") == "/etc/x.yaml")
        #expect(FilePath.join("/", "x.yaml") == "/x.yaml")
    }
}
