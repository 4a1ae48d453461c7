import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A bearer token, when it stops working, and which way of signing in produced it.
public struct AccessToken: Sendable {
    public var token: String
    public var expiresAt: Date
    /// The credential that signed in (`client secret`, `workload identity`, `the Azure CLI`…), for `auth`.
    public var source: String

    public init(token: String, expiresAt: Date, source: String = "a token") {
        self.token = token
        self.expiresAt = expiresAt
        self.source = source
    }
}

/// What a token says about who it is for, read from a JWT's claims without checking its signature (only
/// the service that accepts it can): tenant, client and object ids. Never the token itself.
public struct TokenClaims: Sendable, Equatable {
    public var tenantId: String?
    public var clientId: String?
    public var objectId: String?
    /// `app` or `user` when the token says (`idtyp`).
    public var identityType: String?

    /// Nil when the token is not a JWT whose payload is a JSON object (an opaque token).
    public init?(token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        guard let data = Data(base64Encoded: payload),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return nil }
        func text(_ key: String) -> String? { (object[key] as? String).flatMap { $0.isEmpty ? nil : $0 } }
        tenantId = text("tid")
        clientId = text("appid") ?? text("azp")
        objectId = text("oid")
        identityType = text("idtyp")
    }
}

/// Something that can produce ARM tokens.
public protocol TokenCredential: Sendable {
    func token(scope: String) async throws -> AccessToken
}
