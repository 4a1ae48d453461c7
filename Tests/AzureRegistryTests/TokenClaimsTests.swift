import Foundation
import Testing

@testable import AzureRegistry

/// What `hookapply auth` reads from a token: a JWT's tenant, client and object ids; nothing from
/// anything else.
@Suite struct TokenClaimsTests {
    static func jwt(_ payload: [String: Any]) -> String {
        func part(_ object: [String: Any]) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
            return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return part(["alg": "RS256"]) + "." + part(payload) + ".sig"
    }

    @Test("a JWT's ids: appid, else azp, as the client")
    func ids() {
        let app = TokenClaims(token: Self.jwt(["tid": "t", "appid": "c", "oid": "o", "idtyp": "app"]))
        #expect(app == TokenClaims(token: Self.jwt(["tid": "t", "azp": "c", "oid": "o", "idtyp": "app"])))
        #expect(app?.tenantId == "t" && app?.clientId == "c" && app?.objectId == "o" && app?.identityType == "app")
        #expect(TokenClaims(token: Self.jwt(["sub": "x"]))?.tenantId == nil)
    }

    @Test("anything but a JWT with a JSON object payload is an opaque token", arguments: [
        "opaque", "a.b", "a..c", "a.!!!.c", "x." + Data("[1]".utf8).base64EncodedString() + ".y", "x." + Data("not json".utf8).base64EncodedString() + ".y",
    ])
    func opaque(_ token: String) {
        #expect(TokenClaims(token: token) == nil)
    }
}
