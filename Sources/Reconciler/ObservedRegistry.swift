import HookKit
import HookSpec

/// What a provider knows about a registry besides its webhooks.
public struct RegistryFacts: Hashable, Sendable, Codable {
    /// The most webhooks the registry allows (its tier's limit), when known.
    public var maxWebhooks: Int?
    /// The tier's name, for messages ("Basic", "Standard", "Premium").
    public var tier: String?
    /// The registry's own region, which webhooks without a location get.
    public var location: String?
    /// Every region a webhook may be placed in: the registry's own and each replica's (Azure), as the
    /// registry spells them. Nil where the registry has no regions, or they could not be learnt.
    public var locations: [String]?

    public init(maxWebhooks: Int? = nil, tier: String? = nil, location: String? = nil, locations: [String]? = nil) {
        self.maxWebhooks = maxWebhooks
        self.tier = tier
        self.location = location
        self.locations = locations
    }
}

/// A webhook whose last operation has not settled: the registry's `provisioningState` other than
/// `Succeeded` (absent means succeeded, as ARM says).
public enum ProvisioningState: String, Hashable, Sendable, Codable {
    case creating = "Creating"
    case updating = "Updating"
    case deleting = "Deleting"
    case failed = "Failed"
    case canceled = "Canceled"

    /// An operation is still running: the webhook's fields are not yet what they will be.
    public var isInProgress: Bool { self == .creating || self == .updating || self == .deleting }

    /// ARM's spelling, case-insensitively; nil for `Succeeded`, absent, or a state we do not know
    /// (which is treated as settled, as ARM's own clients do).
    public init?(service text: String?) {
        guard let text, let state = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else { return nil }
        self = state
    }

    static let allCases: [ProvisioningState] = [.creating, .updating, .deleting, .failed, .canceled]
}

/// A registry's live state as a provider observed it.
public struct ObservedRegistry: Hashable, Sendable, Codable {
    public var webhooks: [WebhookState]
    public var facts: RegistryFacts
    /// Webhooks whose provisioning has not succeeded, by lowercased name (absent: settled).
    public var provisioning: [String: ProvisioningState]
    /// Webhooks whose secrets were not read, by lowercased name: a provider's observation cache knew
    /// they had not changed since it read them, and holds only their digests. Their `serviceUri` and
    /// header values in `webhooks` are empty until ``SealedSecrets/unseal(_:declared:)`` fills them
    /// from the spec (where the digests match) or the provider reads them (``SecretHydrating``).
    public var sealed: [String: SealedSecrets]
    /// What the provider wants the user to know about how it observed (a cache it could not use).
    public var notes: [String]
    /// The key ``sealed`` digests were made with (the observation cache's), to match them with the spec.
    /// Never encoded.
    public var sealer: HMAC?

    enum CodingKeys: String, CodingKey {
        case webhooks, facts, provisioning, sealed, notes
    }

    public init(
        webhooks: [WebhookState], facts: RegistryFacts = RegistryFacts(), provisioning: [String: ProvisioningState] = [:],
        sealed: [String: SealedSecrets] = [:], notes: [String] = [], sealer: HMAC? = nil
    ) {
        self.sealer = sealer
        self.webhooks = webhooks
        self.facts = facts
        self.provisioning = provisioning
        self.sealed = sealed
        self.notes = notes
    }

}
