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
