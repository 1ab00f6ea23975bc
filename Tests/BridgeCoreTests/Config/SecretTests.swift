import Foundation
import Testing

@testable import BridgeCore

@Suite("Secret")
struct SecretTests {
    @Test("Prints as *** in every rendering")
    func masksRenderings() throws {
        let secret = Secret("hunter2")
        #expect(String(describing: secret) == "***")
        #expect(String(reflecting: secret) == "***")
        #expect("\(secret)" == "***")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        let json = try JSONEncoder().encode(["password": secret])
        #expect(String(decoding: json, as: UTF8.self) == #"{"password":"***"}"#)
    }

    @Test("Reveals its value only on request and compares by value")
    func revealsAndCompares() {
        #expect(Secret("hunter2").revealed == "hunter2")
        #expect(Secret("a") == Secret("a"))
        #expect(Secret("a") != Secret("b"))
    }
}
