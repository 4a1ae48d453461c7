import HookSpec

/// A webhook with every field, secrets included: what a spec asks for, or what a registry holds.
///
/// One type for both sides so that comparing them is a plain, normalised field-by-field check.
/// Holds secrets in clear: render it only through ``MaskedWebhook``.
public struct WebhookState: Hashable, Sendable, Codable {
    public var name: String
    public var serviceUri: String
    /// In the order given; names are compared case-insensitively.
    public var customHeaders: [ResolvedHeader]
    public var actions: [WebhookAction]
    public var status: WebhookStatus
    /// `""` means every repository.
    public var scope: String
    /// The region (Azure); nil where the registry has no regions.
    public var location: String?
    public var tags: [String: String]

    public init(
        name: String, serviceUri: String, customHeaders: [ResolvedHeader] = [], actions: [WebhookAction],
        status: WebhookStatus = .enabled, scope: String = "", location: String? = nil, tags: [String: String] = [:]
    ) {
        self.name = name
        self.serviceUri = serviceUri
        self.customHeaders = customHeaders
        self.actions = actions
        self.status = status
        self.scope = scope
        self.location = location
        self.tags = tags
    }

    /// The tag that marks which spec owns a webhook.
    public static let ownerTag = "hookapply-owner"

    public var owner: String? { tags[WebhookState.ownerTag] }

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

    /// A webhook as the spec declares it, tagged with the owner.
    public init(_ webhook: ResolvedWebhook, owner: String) {
        self.init(
            name: webhook.name, serviceUri: webhook.serviceUri, customHeaders: webhook.customHeaders,
            actions: webhook.actions, status: webhook.status, scope: webhook.scope, location: webhook.location,
            tags: [WebhookState.ownerTag: owner])
    }
}

/// What a provider knows about a registry besides its webhooks.
public struct RegistryFacts: Hashable, Sendable, Codable {
    /// The most webhooks the registry allows (its tier's limit), when known.
    public var maxWebhooks: Int?
    /// The tier's name, for messages ("Basic", "Standard", "Premium").
    public var tier: String?
    /// The registry's own region, which webhooks without a location get.
    public var location: String?

    public init(maxWebhooks: Int? = nil, tier: String? = nil, location: String? = nil) {
        self.maxWebhooks = maxWebhooks
        self.tier = tier
        self.location = location
    }
}

/// A registry's live state as a provider observed it.
public struct ObservedRegistry: Hashable, Sendable, Codable {
    public var webhooks: [WebhookState]
    public var facts: RegistryFacts

    public init(webhooks: [WebhookState], facts: RegistryFacts = RegistryFacts()) {
        self.webhooks = webhooks
        self.facts = facts
    }

    /// SHA-256 of a canonical form of everything observed (secrets included, so a rotated secret makes
    /// a saved plan stale): the webhooks sorted by name, every field in a fixed order, then the facts.
    public var fingerprint: String {
        // One buffer, hashed once: many small updates cost more than the hashing itself.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(webhooks.count * 256 + 64)
        func add(_ text: String) {
            // Length-prefixed (4 bytes, big-endian), so that no two different states serialise to the same bytes.
            let count = UInt32(truncatingIfNeeded: text.utf8.count)
            bytes.append(UInt8(truncatingIfNeeded: count >> 24))
            bytes.append(UInt8(truncatingIfNeeded: count >> 16))
            bytes.append(UInt8(truncatingIfNeeded: count >> 8))
            bytes.append(UInt8(truncatingIfNeeded: count))
            bytes.append(contentsOf: text.utf8)
        }
        for (key, webhook) in webhooks.map({ ($0.name.lowercased(), $0) }).sorted(by: { $0.0 < $1.0 }) {
            add("webhook")
            add(key)
            add(webhook.serviceUri)
            for (name, value) in webhook.customHeaders.map({ ($0.name.lowercased(), $0.value) }).sorted(by: { $0.0 < $1.0 }) {
                add(name)
                add(value)
            }
            for action in webhook.normalisedActions { add(action.rawValue) }
            add(webhook.status.rawValue)
            add(webhook.scope)
            add(webhook.location ?? "")
            for (key, value) in webhook.tags.sorted(by: { $0.key < $1.key }) {
                add(key)
                add(value)
            }
        }
        add("facts")
        add(facts.maxWebhooks.map(String.init) ?? "")
        add(facts.tier ?? "")
        add(facts.location ?? "")
        var hasher = SHA256()
        hasher.update(bytes)
        return SHA256.hex(hasher.finalize())
    }
}
