/// The fields the planner compares.
public enum WebhookField: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    case serviceUri
    case customHeaders
    case actions
    case status
    case scope
    case location
    case tags
    /// Standard Webhooks secrets: write-only, shown masked (local registries).
    case signingSecret
    /// ACR JSON or CloudEvents (local registries).
    case payloadFormat
    /// The registry's provisioning state: a failed one is drift, and an update re-sends every property.
    case provisioningState

    public static func < (lhs: WebhookField, rhs: WebhookField) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}
