import HookSpec

/// The plan for one registry.
public struct RegistryPlan: Hashable, Sendable, Codable {
    public var name: String
    /// Where it is, without secrets (e.g. `local: .hookapply/dev.json`).
    public var target: String
    /// SHA-256 of the observed state the plan was made from; applying a saved plan re-observes and compares.
    public var fingerprint: String
    public var changes: [Change]
    /// Present but not declared, and not ours to delete (or `prune: none`): listed, never touched.
    public var unmanaged: [UnmanagedWebhook]

    public init(name: String, target: String, fingerprint: String, changes: [Change], unmanaged: [UnmanagedWebhook]) {
        self.name = name
        self.target = target
        self.fingerprint = fingerprint
        self.changes = changes
        self.unmanaged = unmanaged
    }
}

public struct UnmanagedWebhook: Hashable, Sendable, Codable {
    public var name: String
    public var owner: String?
    public var reason: String
}
