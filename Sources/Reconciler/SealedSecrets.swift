import HookKit
import HookSpec

/// A webhook's secrets known only by their SHA-256 digests: what an observation cache keeps, so that a
/// warm observation need not read every webhook's secrets again (on Azure, one `getCallbackConfig` POST
/// each). A digest that matches the spec's value means the live value *is* the spec's value, so the
/// webhook can be planned exactly as if it had been read; any other sealed webhook a plan touches is
/// read for real first (``Planner/planHydrating(_:specDigest:observed:providers:targets:options:)``).
public struct SealedSecrets: Hashable, Sendable, Codable {
    /// SHA-256 of the service URI.
    public var serviceUri: String
    /// SHA-256 of each header value, by lowercased header name.
    public var headers: [String: String]
    /// Each header name as the registry spells it, by lowercased name (names are not secret).
    public var headerNames: [String: String]

    public init(serviceUri: String, headers: [String: String], headerNames: [String: String]) {
        self.serviceUri = serviceUri
        self.headers = headers
        self.headerNames = headerNames
    }

    /// The digests of a webhook whose secrets were read.
    public init(of webhook: WebhookState) {
        serviceUri = SHA256.hexDigest(webhook.serviceUri)
        var headers: [String: String] = [:]
        var names: [String: String] = [:]
        for header in webhook.customHeaders {
            headers[header.name.lowercased()] = SHA256.hexDigest(header.value)
            names[header.name.lowercased()] = header.name
        }
        self.headers = headers
        self.headerNames = names
    }

    /// Whether `desired` has exactly these secrets: the same service URI and the same headers (names
    /// case-insensitively, values exactly).
    public func match(_ desired: WebhookState) -> Bool {
        guard SHA256.hexDigest(desired.serviceUri) == serviceUri, desired.customHeaders.count == headers.count else { return false }
        return desired.customHeaders.allSatisfy { headers[$0.name.lowercased()] == SHA256.hexDigest($0.value) }
    }

    /// `observed` with every sealed webhook whose digests match its declaration filled in with the
    /// declared values (which are then its live values), and unsealed.
    public static func unseal(_ observed: ObservedRegistry, declared: [WebhookState]) -> ObservedRegistry {
        guard !observed.sealed.isEmpty else { return observed }
        var result = observed
        let byName = Dictionary(declared.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        for index in result.webhooks.indices {
            let key = result.webhooks[index].name.lowercased()
            guard let secrets = result.sealed[key], let desired = byName[key], secrets.match(desired) else { continue }
            result.webhooks[index].serviceUri = desired.serviceUri
            // The registry's spelling of each name, the spec's (equal) value.
            result.webhooks[index].customHeaders = desired.customHeaders.map {
                ResolvedHeader(name: secrets.headerNames[$0.name.lowercased()] ?? $0.name, value: $0.value)
            }.sorted { $0.name < $1.name }
            result.sealed[key] = nil
        }
        return result
    }
}
