import HookSpec

/// What a reconciliation would do: per registry, the changes that make it match the spec.
///
/// Plain data, sorted, `Codable` with every secret masked, so it can be rendered, saved with
/// `plan --out`, golden-tested and compared. Each ``Change`` also carries the desired state in memory
/// (``Change/desired``) for the applier; that is never encoded.
public struct Plan: Hashable, Sendable, Codable {
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    /// SHA-256 of the spec file's bytes: a saved plan applies only to the spec it was made from.
    public var specDigest: String
    public var owner: String
    public var registries: [RegistryPlan]

    public init(specDigest: String, owner: String, registries: [RegistryPlan]) {
        self.formatVersion = Plan.currentFormatVersion
        self.specDigest = specDigest
        self.owner = owner
        self.registries = registries
    }

    public var changes: [Change] { registries.flatMap(\.changes) }
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

public enum ChangeAction: String, Hashable, Sendable, Codable, CaseIterable {
    case create
    case update
    case delete
    /// Delete, then create: a change that cannot be made in place (an Azure webhook's location).
    case replace

    /// Execution order within a registry: deletes first frees the tier's quota for creates.
    var order: Int {
        switch self {
        case .delete: 0
        case .replace: 1
        case .update: 2
        case .create: 3
        }
    }

    /// The action list of terraform's JSON plan: replace is delete then create.
    public var steps: [String] {
        self == .replace ? ["delete", "create"] : [rawValue]
    }
}

/// One change to one webhook.
public struct Change: Hashable, Sendable, Codable {
    public var registry: String
    public var webhook: String
    public var action: ChangeAction
    /// Why: "not in the spec", "adopt: …", "location changes".
    public var reasons: [String]
    /// Field-level differences, masked; for creates every declared field.
    public var fields: [FieldChange]
    /// How many compared fields did not change (hidden in text output).
    public var unchangedCount: Int
    public var before: MaskedWebhook?
    public var after: MaskedWebhook?
    /// SHA-256 of the desired secret values (service URI and header values): lets a saved plan notice
    /// that a secret now resolves to something else, without storing the secret.
    public var secretDigest: String?
    /// The desired state with secrets, for the applier. Never encoded.
    public var desired: WebhookState?

    enum CodingKeys: String, CodingKey {
        case registry, webhook, action, reasons, fields, unchangedCount, before, after, secretDigest
    }

    public var changedFields: Set<WebhookField> { Set(fields.map(\.field)) }

    /// The change as a plan file holds it: without the in-memory desired state. Saved and fresh plans
    /// are compared in this form (secrets by their digest).
    public var withoutDesiredState: Change {
        var copy = self
        copy.desired = nil
        return copy
    }
}

/// One field's old and new value, as shown to people: secrets already masked.
public struct FieldChange: Hashable, Sendable, Codable {
    public var field: WebhookField
    /// The header name for `customHeaders`, the tag key for `tags`.
    public var key: String?
    public var old: String?
    public var new: String?
    /// The value is a secret: `old`/`new` are masks, and `isHiddenChange` says whether it changed behind them.
    public var isSensitive: Bool
    /// True when masked forms look the same but the secret values differ.
    public var isHiddenChange: Bool
    public var forcesReplacement: Bool

    public init(
        field: WebhookField, key: String? = nil, old: String?, new: String?, isSensitive: Bool = false,
        isHiddenChange: Bool = false, forcesReplacement: Bool = false
    ) {
        self.field = field
        self.key = key
        self.old = old
        self.new = new
        self.isSensitive = isSensitive
        self.isHiddenChange = isHiddenChange
        self.forcesReplacement = forcesReplacement
    }
}

/// A webhook with its secrets masked: safe for any output and for plan files.
public struct MaskedWebhook: Hashable, Sendable, Codable {
    public var name: String
    public var serviceUri: String
    /// Header names, each with the mask `(sensitive value)`.
    public var customHeaders: [String: String]
    public var actions: [WebhookAction]
    public var status: WebhookStatus
    public var scope: String
    public var location: String?
    public var tags: [String: String]

    public init(_ state: WebhookState) {
        self.name = state.name
        self.serviceUri = Redaction.maskURI(state.serviceUri)
        self.customHeaders = Dictionary(state.customHeaders.map { ($0.name, Redaction.sensitiveValue) }, uniquingKeysWith: { first, _ in first })
        self.actions = state.normalisedActions
        self.status = state.status
        self.scope = state.scope
        self.location = state.location
        self.tags = state.tags
    }
}
