import HookSpec

/// The plan for one registry.
public struct RegistryPlan: Hashable, Sendable, Codable {
    public var name: String
    /// Where it is, without secrets (e.g. `local: .hookapply/dev.json`).
    public var target: String
    public var changes: [Change]
    /// Present but not declared, and not ours to delete (or `prune: none`): listed, never touched.
    public var unmanaged: [UnmanagedWebhook]
    /// What the plan depends on, by lowercased webhook name: every declared webhook (present or not) and
    /// every one it could prune; not other owners' webhooks it leaves alone. A saved plan is stale only
    /// when one of these changed (or the facts did), and says which. Nil when no evidence was recorded.
    public var dependencies: [String: WebhookDependency]? {
        get { dependencyList.map { Dictionary($0.map { ($0.name, $0.dependency) }, uniquingKeysWith: { first, _ in first }) } }
        set { dependencyList = newValue.map(Self.sortedList) }
    }
    /// The same, sorted by name: how it is held, since a dictionary of 500 entries takes 1,024 slots (at
    /// 50,000 webhooks, 6 MiB more for `plan --out`), and how the document lists it.
    public private(set) var dependencyList: [NamedDependency]?

    public struct NamedDependency: Hashable, Sendable {
        public var name: String
        public var dependency: WebhookDependency
    }

    static func sortedList(_ dependencies: [String: WebhookDependency]) -> [NamedDependency] {
        dependencies.map { NamedDependency(name: $0.key, dependency: $0.value) }.sorted { $0.name < $1.name }
    }
    /// SHA-256 of the registry facts the plan checked (tier limit, regions).
    public var factsDigest: String?

    public init(
        name: String, target: String, changes: [Change], unmanaged: [UnmanagedWebhook],
        dependencies: [String: WebhookDependency]? = nil, factsDigest: String? = nil
    ) {
        self.name = name
        self.target = target
        self.changes = changes
        self.unmanaged = unmanaged
        self.dependencyList = dependencies.map(Self.sortedList)
        self.factsDigest = factsDigest
    }

    // The plan schema: changes are listed once, at the top of the plan (see ``Plan``).
    enum CodingKeys: String, CodingKey {
        case name, target, unmanaged, dependencies
        case factsDigest = "facts_digest"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        target = try container.decode(String.self, forKey: .target)
        unmanaged = try container.decode([UnmanagedWebhook].self, forKey: .unmanaged)
        dependencyList = try container.decodeIfPresent([String: WebhookDependency].self, forKey: .dependencies).map(Self.sortedList)
        factsDigest = try container.decodeIfPresent(String.self, forKey: .factsDigest)
        changes = []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(target, forKey: .target)
        try container.encode(unmanaged, forKey: .unmanaged)
        try container.encodeIfPresent(dependencies, forKey: .dependencies)
        try container.encodeIfPresent(factsDigest, forKey: .factsDigest)
    }

    /// Why this saved plan no longer holds against `now` (made from the same spec), naming each
    /// difference (`prod/scanner: serviceUri changed`), or nil when everything it relied on is as it was.
    public func staleness(against now: RegistryPlan) -> String? {
        // Format 4 dropped the fingerprint of the whole observed state: the dependencies say more, and
        // computing both took a fifth of `plan --out` at 50,000 webhooks. A plan without them is refused.
        guard let dependencies, let current = now.dependencies else {
            return "\(name): the plan records nothing to check it against (was the plan file edited?)"
        }
        var differences: [String] = []
        if factsDigest != now.factsDigest { differences.append("\(name): the registry's tier or regions changed") }
        for key in Set(dependencies.keys).union(current.keys).sorted() {
            let before = dependencies[key] ?? .absent
            let after = current[key] ?? .absent
            if let difference = before.difference(to: after) { differences.append("\(name)/\(key): \(difference)") }
        }
        return differences.isEmpty ? nil : differences.joined(separator: "; ")
    }
}

public struct UnmanagedWebhook: Hashable, Sendable, Codable {
    public var name: String
    public var owner: String?
    public var reason: String
}
