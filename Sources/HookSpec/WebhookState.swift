/// A webhook with every field in clear, secrets included: what a resolved spec asks for (every
/// `${env:…}` replaced), or what a registry holds.
///
/// One type for both sides so that comparing them is a plain, normalised field-by-field check. The spec's
/// own ``Webhook`` differs in kind (templates, a description kept in git only), so it stays separate.
/// Holds secrets in clear: render it only masked (``Redaction``, or the Reconciler's `MaskedWebhook`).
public struct WebhookState: Hashable, Sendable, Codable {
    public var name: String
    public var serviceUri: String
    /// In the order given; names are compared case-insensitively.
    public var customHeaders: [ResolvedHeader]
    public var actions: [WebhookAction]
    public var status: WebhookStatus
    /// `""` means every repository (shown as ``everyRepository`` in text).
    public var scope: String
    /// The region (Azure); nil where the registry has no regions.
    public var location: String?
    public var tags: [String: String]
    /// Standard Webhooks secrets (`whsec_…`) that sign every delivery; empty: unsigned. Secrets in clear.
    public var signingSecrets: [String]
    public var payloadFormat: PayloadFormat

    public init(
        name: String, serviceUri: String, customHeaders: [ResolvedHeader] = [], actions: [WebhookAction],
        status: WebhookStatus = .enabled, scope: String = "", location: String? = nil, tags: [String: String] = [:],
        signingSecrets: [String] = [], payloadFormat: PayloadFormat = .acr
    ) {
        self.name = name
        self.serviceUri = serviceUri
        self.customHeaders = customHeaders
        self.actions = actions
        self.status = status
        self.scope = scope
        self.location = location
        self.tags = tags
        self.signingSecrets = signingSecrets
        self.payloadFormat = payloadFormat
    }

    private enum CodingKeys: String, CodingKey {
        case name, serviceUri, customHeaders, actions, status, scope, location, tags, signingSecrets, payloadFormat
    }

    /// Values written before signing and payload formats existed read back as unsigned ACR JSON.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        serviceUri = try container.decode(String.self, forKey: .serviceUri)
        customHeaders = try container.decode([ResolvedHeader].self, forKey: .customHeaders)
        actions = try container.decode([WebhookAction].self, forKey: .actions)
        status = try container.decode(WebhookStatus.self, forKey: .status)
        scope = try container.decode(String.self, forKey: .scope)
        location = try container.decodeIfPresent(String.self, forKey: .location)
        tags = try container.decode([String: String].self, forKey: .tags)
        signingSecrets = try container.decodeIfPresent([String].self, forKey: .signingSecrets) ?? []
        payloadFormat = try container.decodeIfPresent(PayloadFormat.self, forKey: .payloadFormat) ?? .acr
    }

    /// Whether two webhooks sign with the same secrets, in any order.
    public func hasSameSigningSecrets(as other: WebhookState) -> Bool {
        signingSecrets == other.signingSecrets || Set(signingSecrets) == Set(other.signingSecrets)
    }

    /// Actions as a sorted set: the registry does not keep their order.
    public var normalisedActions: [WebhookAction] { Array(Set(actions)).sorted() }

    /// Whether two webhooks fire on the same actions, in any order. Checks the common case (same order)
    /// before building sets: plans compare every declared webhook with its live twin.
    public func hasSameActions(as other: WebhookState) -> Bool {
        if actions == other.actions { return true }
        return Set(actions) == Set(other.actions)
    }

    /// Whether two webhooks send the same headers: names case-insensitively, values exactly.
    public func hasSameHeaders(as other: WebhookState) -> Bool {
        if customHeaders == other.customHeaders { return true }
        return normalisedHeaders == other.normalisedHeaders
    }

    /// Headers keyed by lowercased name: names are case-insensitive, values are compared exactly.
    public var normalisedHeaders: [String: String] {
        var result: [String: String] = [:]
        for header in customHeaders { result[header.name.lowercased()] = header.value }
        return result
    }
}

extension WebhookState {
    /// How text output (list, get, plan) shows an empty scope; JSON keeps `""`, as the spec writes it.
    public static let everyRepository = "(every repository)"

    /// A scope as text output shows it: the scope, or ``everyRepository`` when it is empty.
    public static func describeScope(_ scope: String) -> String { scope.isEmpty ? everyRepository : scope }
}
