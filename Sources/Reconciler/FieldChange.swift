import HookSpec

/// One field's old and new value, as shown to people: secrets already masked.
public struct FieldChange: Hashable, Sendable, Codable {
    public var field: WebhookField
    /// The header name for `customHeaders`, the tag key for `tags`.
    public var key: String?
    public var old: FieldValue?
    public var new: FieldValue?
    /// The value is a secret: `old`/`new` are masks, and `isHiddenChange` says whether it changed behind them.
    public var isSensitive: Bool
    /// True when masked forms look the same but the secret values differ.
    public var isHiddenChange: Bool
    public var forcesReplacement: Bool

    public init(
        field: WebhookField, key: String? = nil, old: FieldValue?, new: FieldValue?, isSensitive: Bool = false,
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

    // The plan schema's names (schema/hookapply-plan.schema.json).
    enum CodingKeys: String, CodingKey {
        case field, key, old, new
        case isSensitive = "sensitive"
        case isHiddenChange = "hidden_change"
        case forcesReplacement = "forces_replacement"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        field = try container.decode(WebhookField.self, forKey: .field)
        key = try container.decodeIfPresent(String.self, forKey: .key)
        isSensitive = try container.decode(Bool.self, forKey: .isSensitive)
        isHiddenChange = try container.decode(Bool.self, forKey: .isHiddenChange)
        forcesReplacement = try container.decode(Bool.self, forKey: .forcesReplacement)
        // The mask is a mask only in a sensitive field: a plain header may hold the same words.
        func value(_ key: CodingKeys) throws -> FieldValue? {
            guard let value = try container.decodeIfPresent(FieldValue.self, forKey: key) else { return nil }
            if !isSensitive, case .masked = value { return .text(Redaction.sensitiveValue) }
            return value
        }
        old = try value(.old)
        new = try value(.new)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(field, forKey: .field)
        try container.encode(key, forKey: .key)
        try container.encode(old, forKey: .old)
        try container.encode(new, forKey: .new)
        try container.encode(isSensitive, forKey: .isSensitive)
        try container.encode(isHiddenChange, forKey: .isHiddenChange)
        try container.encode(forcesReplacement, forKey: .forcesReplacement)
    }
}

/// A field's value in a plan, typed as JSON types it: a string, a list of strings (actions), or the
/// mask that stands for a secret header value. A masked service URI is text (its secret parts removed).
public enum FieldValue: Hashable, Sendable, Codable {
    case text(String)
    case list([String])
    case masked

    /// As the text plan shows it: strings quoted, lists in brackets, the mask bare.
    public var display: String {
        switch self {
        case .text(let text): "\"\(text)\""
        case .list(let items): "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        case .masked: Redaction.sensitiveValue
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let items = try? container.decode([String].self) {
            self = .list(items)
        } else {
            let text = try container.decode(String.self)
            self = text == Redaction.sensitiveValue ? .masked : .text(text)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .list(let items): try container.encode(items)
        case .masked: try container.encode(Redaction.sensitiveValue)
        }
    }
}
