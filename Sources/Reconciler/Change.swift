import HookSpec

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
    /// The desired state with secrets, for the applier. Never encoded.
    public var desired: WebhookState?
    /// For a replacement: the webhook as observed, secrets included, so that the applier can put it back
    /// if the create fails after the delete. Never encoded.
    public var previous: WebhookState?

    // The plan schema's names; `actions` is written for scripts (terraform's form: a replacement is
    // ["delete", "create"]) and not read back, since `action` says the same.
    enum CodingKeys: String, CodingKey {
        case registry, webhook, action, actions, reasons, fields, before, after
        case unchangedCount = "unchanged_count"
    }

    public init(
        registry: String, webhook: String, action: ChangeAction, reasons: [String], fields: [FieldChange], unchangedCount: Int,
        before: MaskedWebhook?, after: MaskedWebhook?, desired: WebhookState? = nil, previous: WebhookState? = nil
    ) {
        self.registry = registry
        self.webhook = webhook
        self.action = action
        self.reasons = reasons
        self.fields = fields
        self.unchangedCount = unchangedCount
        self.before = before
        self.after = after
        self.desired = desired
        self.previous = previous
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        registry = try container.decode(String.self, forKey: .registry)
        webhook = try container.decode(String.self, forKey: .webhook)
        action = try container.decode(ChangeAction.self, forKey: .action)
        reasons = try container.decode([String].self, forKey: .reasons)
        fields = try container.decode([FieldChange].self, forKey: .fields)
        unchangedCount = try container.decode(Int.self, forKey: .unchangedCount)
        before = try container.decodeIfPresent(MaskedWebhook.self, forKey: .before)
        after = try container.decodeIfPresent(MaskedWebhook.self, forKey: .after)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(registry, forKey: .registry)
        try container.encode(webhook, forKey: .webhook)
        try container.encode(action, forKey: .action)
        try container.encode(action.steps, forKey: .actions)
        try container.encode(reasons, forKey: .reasons)
        try container.encode(fields, forKey: .fields)
        try container.encode(unchangedCount, forKey: .unchangedCount)
        try container.encode(before, forKey: .before)
        try container.encode(after, forKey: .after)
    }

    public var changedFields: Set<WebhookField> { Set(fields.map(\.field)) }

    /// The change as a plan file holds it: without the in-memory desired state. Saved and fresh plans
    /// are compared in this form, masked: a plan carries no secret, nor any digest of one.
    public var withoutDesiredState: Change {
        var copy = self
        copy.desired = nil
        copy.previous = nil
        return copy
    }
}
