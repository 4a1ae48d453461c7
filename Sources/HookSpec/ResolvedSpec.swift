/// A spec with every `${env:...}` replaced by its value: what the reconciler plans from.
///
/// Holds secrets in clear; nothing that renders it may print ``WebhookState/serviceUri`` or header
/// values without ``Redaction``.
public struct ResolvedSpec: Hashable, Sendable {
    public var owner: String
    public var registries: [ResolvedRegistry]
    /// The raw values that `${env:…}` references in service URIs and header values resolved to
    /// (fallbacks included): secrets whatever their place, which every output hides.
    public var environmentValues: [String]

    public init(owner: String, registries: [ResolvedRegistry], environmentValues: [String] = []) {
        self.owner = owner
        self.registries = registries
        self.environmentValues = environmentValues
    }
}

public struct ResolvedRegistry: Hashable, Sendable {
    public var name: String
    public var target: ResolvedTarget
    public var prune: PruneMode
    public var webhooks: [WebhookState]

    public init(name: String, target: ResolvedTarget, prune: PruneMode, webhooks: [WebhookState]) {
        self.name = name
        self.target = target
        self.prune = prune
        self.webhooks = webhooks
    }
}

public enum ResolvedTarget: Hashable, Sendable {
    /// The state file's path as written (relative to the spec file's folder) or the default.
    case local(path: String)
    case azure(subscriptionId: String, resourceGroup: String, registry: String, endpoint: String?)
}

public struct ResolvedHeader: Hashable, Sendable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
