import HookSpec

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
    /// `(sensitive value)` when the webhook signs its deliveries; absent otherwise.
    public var signingSecret: String?
    /// Present only when it is not ACR's JSON, so documents of webhooks without it stay as they were.
    public var payloadFormat: PayloadFormat?

    public init(_ state: WebhookState) {
        self.name = state.name
        self.serviceUri = Redaction.maskURI(state.serviceUri)
        self.customHeaders = Dictionary(state.customHeaders.map { ($0.name, Redaction.isSecretHeader($0.name) ? Redaction.sensitiveValue : $0.value) },
                                        uniquingKeysWith: { first, _ in first })
        self.actions = state.normalisedActions
        self.status = state.status
        self.scope = state.scope
        self.location = state.location
        self.tags = state.tags
        self.signingSecret = state.signingSecrets.isEmpty ? nil : Redaction.sensitiveValue
        self.payloadFormat = state.payloadFormat == .acr ? nil : state.payloadFormat
    }
}
