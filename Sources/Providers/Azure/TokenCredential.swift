import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A bearer token and when it stops working.
public struct AccessToken: Sendable {
    public var token: String
    public var expiresAt: Date

    public init(token: String, expiresAt: Date) {
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// Something that can produce ARM tokens.
public protocol TokenCredential: Sendable {
    func token(scope: String) async throws -> AccessToken
}
