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
    /// SHA-256 of the desired secret values (service URI and header values): lets a saved plan notice
    /// that a secret now resolves to something else, without storing the secret.
    public var secretDigest: String?
    /// The desired state with secrets, for the applier. Never encoded.
    public var desired: WebhookState?
    /// For a replacement: the webhook as observed, secrets included, so that the applier can put it back
    /// if the create fails after the delete. Never encoded.
    public var previous: WebhookState?

    enum CodingKeys: String, CodingKey {
        case registry, webhook, action, reasons, fields, unchangedCount, before, after, secretDigest
    }

    public var changedFields: Set<WebhookField> { Set(fields.map(\.field)) }

    /// The change as a plan file holds it: without the in-memory desired state. Saved and fresh plans
    /// are compared in this form (secrets by their digest).
    public var withoutDesiredState: Change {
        var copy = self
        copy.desired = nil
        copy.previous = nil
        return copy
    }
}
