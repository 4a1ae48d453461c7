import HookKit
import HookSpec

/// What a plan relied on about one webhook, field by field, without a secret or any digest of one (a
/// plan is a CI artifact: an unkeyed digest of a token lets its holder test guesses offline). A saved
/// plan is stale when one of these differs at apply time, and the difference is named ("scope
/// changed"). Secret values need no evidence: applying sets the spec's values whatever the live ones
/// are, and whether they differ shows in the plan's (masked) changes, which are compared too.
public struct WebhookDependency: Hashable, Sendable, Codable {
    /// False when the webhook was absent (a create depends on it still being absent).
    public var exists: Bool
    /// The service URI masked as every plan shows it (no userinfo, no query): a moved host or path is
    /// named, and nothing is recorded that the plan does not already show.
    public var serviceUri: String?
    /// The custom header names, lowercased and sorted: never a value.
    public var headerNames: [String]?
    public var actions: [WebhookAction]?
    public var status: WebhookStatus?
    public var scope: String?
    public var location: String?
    /// SHA-256 of the tags, sorted.
    public var tags: String?
    public var provisioningState: String?

    public static let absent = WebhookDependency(exists: false)

    public init(exists: Bool) {
        self.exists = exists
    }

    public init(_ webhook: WebhookState, provisioning: ProvisioningState?) {
        exists = true
        serviceUri = Redaction.maskURI(webhook.serviceUri)
        headerNames = webhook.customHeaders.map { $0.name.lowercased() }.sorted()
        actions = webhook.normalisedActions
        status = webhook.status
        scope = webhook.scope
        location = webhook.location
        tags = SHA256.hexDigest(webhook.tags.sorted { $0.key < $1.key }.map { "\($0.key)\u{0}\($0.value)" }.joined(separator: "\u{0}\u{0}"))
        provisioningState = provisioning?.rawValue
    }

    /// How `now` differs from what was relied on, in words ("serviceUri changed"), or nil when it does not.
    public func difference(to now: WebhookDependency) -> String? {
        if exists != now.exists { return now.exists ? "now exists" : "no longer exists" }
        var fields: [String] = []
        if serviceUri != now.serviceUri { fields.append("serviceUri") }
        if headerNames != now.headerNames { fields.append("customHeaders") }
        if actions != now.actions { fields.append("actions") }
        if status != now.status { fields.append("status") }
        if scope != now.scope { fields.append("scope") }
        if location != now.location { fields.append("location") }
        if tags != now.tags { fields.append("tags") }
        if provisioningState != now.provisioningState { fields.append("provisioningState") }
        return fields.isEmpty ? nil : fields.joined(separator: ", ") + " changed"
    }
}
