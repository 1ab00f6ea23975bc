#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads claims from a JWT's payload without verifying it (the server verifies; the client
/// only wants to know when to renew).
enum JWTClaims {
    /// The `exp` claim as a date, or `nil` when the token is not a JWT or has none.
    static func expiry(of token: String) -> Date? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = decodeBase64URL(String(parts[1])),
            let claims = try? JSONNode.parse(payload), let seconds = claims["exp"]?.seconds
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// Decodes unpadded base64url.
    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        var base64 = text.replacing("-", with: "+").replacing("_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
