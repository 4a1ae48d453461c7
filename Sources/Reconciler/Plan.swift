import HookSpec

/// What a reconciliation would do: per registry, the changes that make it match the spec.
///
/// Plain data, sorted, `Codable` with every secret masked, so it can be rendered, saved with
/// `plan --out`, golden-tested and compared. Each ``Change`` also carries the desired state in memory
/// (``Change/desired``) for the applier; that is never encoded.
public struct Plan: Hashable, Sendable, Codable {
    /// The plan schema's version (schema/hookapply-plan.schema.json): 2 made values typed and made
    /// `plan --format json` and `plan --out` one document; 3 dropped every digest of secret material
    /// (`secret_digest`, the service URI and header digests of dependencies, secrets in fingerprints);
    /// 4 added `targets` and dropped each registry's `fingerprint` (the dependencies say more).
    public static let currentFormatVersion = 4

    public var formatVersion: Int
    /// SHA-256 of the spec file's bytes: a saved plan applies only to the spec it was made from.
    public var specDigest: String
    public var owner: String
    public var registries: [RegistryPlan]
    /// `--target`: the webhooks (`registry/webhook`, sorted) this plan was narrowed to; nil when it covers
    /// whole registries. A saved targeted plan is re-planned with the same targets when applied.
    public var targets: [String]?

    public init(specDigest: String, owner: String, registries: [RegistryPlan]) {
        self.formatVersion = Plan.currentFormatVersion
        self.specDigest = specDigest
        self.owner = owner
        self.registries = registries
    }

    public var changes: [Change] { registries.flatMap(\.changes) }

    // The plan schema: snake_case document keys; webhooks and fields keep the spec's property names.
    // Changes are one flat list (what scripts iterate), each naming its registry.
    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case specDigest = "spec_digest"
        case owner, summary, registries, changes, targets
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        specDigest = try container.decode(String.self, forKey: .specDigest)
        owner = try container.decode(String.self, forKey: .owner)
        registries = try container.decode([RegistryPlan].self, forKey: .registries)
        targets = try container.decodeIfPresent([String].self, forKey: .targets)
        let changes = try container.decode([Change].self, forKey: .changes)
        for change in changes {
            guard let index = registries.firstIndex(where: { $0.name == change.registry }) else {
                throw DecodingError.dataCorruptedError(forKey: .changes, in: container,
                                                       debugDescription: "a change names registry '\(change.registry)', which the plan does not list")
            }
            registries[index].changes.append(change)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(specDigest, forKey: .specDigest)
        try container.encode(owner, forKey: .owner)
        try container.encodeIfPresent(targets, forKey: .targets)
        try container.encode(summary, forKey: .summary)
        try container.encode(registries, forKey: .registries)
        try container.encode(changes, forKey: .changes)
    }
    public var isEmpty: Bool { registries.allSatisfy { $0.changes.isEmpty } }

    /// Replacements count as both a create and a delete, as reviewers of infrastructure plans expect.
    public var summary: Summary { Summary(counting: changes.map(\.action)) }

    public struct Summary: Hashable, Sendable, Codable {
        public var create = 0
        public var update = 0
        public var delete = 0

        public init(create: Int = 0, update: Int = 0, delete: Int = 0) {
            self.create = create
            self.update = update
            self.delete = delete
        }

        /// Counts actions; a replacement counts as a create and a delete.
        public init(counting actions: [ChangeAction]) {
            for action in actions {
                switch action {
                case .create: create += 1
                case .update: update += 1
                case .delete: delete += 1
                case .replace:
                    create += 1
                    delete += 1
                }
            }
        }
    }
}
