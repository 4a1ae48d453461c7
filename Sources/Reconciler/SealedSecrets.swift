import HookKit
import HookSpec

/// A webhook's secrets known only by their keyed digests (HMAC-SHA256 with the cache key, never a plain
/// hash, which a guess could be checked against offline): what an observation cache keeps, so that a
/// warm observation need not read every webhook's secrets again (on Azure, one `getCallbackConfig` POST
/// each). A digest that matches the spec's value means the live value *is* the spec's value, so the
/// webhook can be planned exactly as if it had been read; any other sealed webhook a plan touches is
/// read for real first (``Planner/planHydrating(_:specDigest:observed:providers:targets:options:)``).
public struct SealedSecrets: Hashable, Sendable, Codable {
    /// HMAC-SHA256 of the service URI.
    public var serviceUri: String
    /// HMAC-SHA256 of each header value, by lowercased header name.
    public var headers: [String: String]
    /// Each header name as the registry spells it, by lowercased name (names are not secret).
    public var headerNames: [String: String]

    public init(serviceUri: String, headers: [String: String], headerNames: [String: String]) {
        self.serviceUri = serviceUri
        self.headers = headers
        self.headerNames = headerNames
    }

    /// The digests of a webhook whose secrets were read, keyed with `sealer`.
    public init(of webhook: WebhookState, sealer: HMAC) {
        serviceUri = sealer.hexCode(webhook.serviceUri)
        var headers: [String: String] = [:]
        var names: [String: String] = [:]
        for header in webhook.customHeaders {
            headers[header.name.lowercased()] = sealer.hexCode(header.value)
            names[header.name.lowercased()] = header.name
        }
        self.headers = headers
        self.headerNames = names
    }

    /// Whether `desired` has exactly these secrets: the same service URI and the same headers (names
    /// case-insensitively, values exactly).
    public func match(_ desired: WebhookState, sealer: HMAC) -> Bool {
        guard HMAC.constantTimeEqual(sealer.hexCode(desired.serviceUri), serviceUri), desired.customHeaders.count == headers.count else { return false }
        return desired.customHeaders.allSatisfy { header in
            headers[header.name.lowercased()].map { HMAC.constantTimeEqual($0, sealer.hexCode(header.value)) } ?? false
        }
    }

    /// `observed` with every sealed webhook whose digests match its declaration filled in with the
    /// declared values (which are then its live values), and unsealed.
    public static func unseal(_ observed: ObservedRegistry, declared: [WebhookState]) -> ObservedRegistry {
        // Without the key the digests were made with, nothing can be matched: the planner reads them.
        guard !observed.sealed.isEmpty, let sealer = observed.sealer else { return observed }
        var result = observed
        let byName = Dictionary(declared.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        for index in result.webhooks.indices {
            let key = result.webhooks[index].name.lowercased()
            guard let secrets = result.sealed[key], let desired = byName[key], secrets.match(desired, sealer: sealer) else { continue }
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
