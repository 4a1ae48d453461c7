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

    /// - Parameter interning: values most webhooks of a registry share (their tags' digest, header names,
    ///   actions), kept once: a plan of 50,000 webhooks otherwise hashed each tag set again and held
    ///   50,000 copies of the same two lists.
    public init(_ webhook: WebhookState, provisioning: ProvisioningState?, interning: inout Interning) {
        self.init(webhook, provisioning: provisioning, tagsDigest: interning.tagsDigest(webhook.tags))
        if let names = headerNames { headerNames = interning.shared(names) }
        if let actions { self.actions = interning.shared(actions) }
    }

    /// What ``init(_:provisioning:interning:)`` shares between the webhooks of one plan.
    public struct Interning {
        private var digests: [[String: String]: String] = [:]
        private var names: [[String]: [String]] = [:]
        private var actionLists: [[WebhookAction]: [WebhookAction]] = [:]
        /// Kept small: past this, values are computed as they come (a registry of unique tags gains nothing).
        static let limit = 256

        public init() {}

        mutating func tagsDigest(_ tags: [String: String]) -> String {
            if let digest = digests[tags] { return digest }
            let digest = WebhookDependency.digest(ofTags: tags)
            if digests.count < Self.limit { digests[tags] = digest }
            return digest
        }

        mutating func shared(_ value: [String]) -> [String] {
            if let kept = names[value] { return kept }
            if names.count < Self.limit { names[value] = value }
            return value
        }

        mutating func shared(_ value: [WebhookAction]) -> [WebhookAction] {
            if let kept = actionLists[value] { return kept }
            if actionLists.count < Self.limit { actionLists[value] = value }
            return value
        }
    }

    public init(_ webhook: WebhookState, provisioning: ProvisioningState?, tagsDigest: String? = nil) {
        exists = true
        serviceUri = Redaction.maskURI(webhook.serviceUri)
        headerNames = webhook.customHeaders.map { $0.name.lowercased() }.sorted()
        actions = webhook.normalisedActions
        status = webhook.status
        scope = webhook.scope
        location = webhook.location
        tags = tagsDigest ?? Self.digest(ofTags: webhook.tags)
        provisioningState = provisioning?.rawValue
    }

    /// SHA-256 of the tags, sorted, as ``tags`` records them.
    public static func digest(ofTags tags: [String: String]) -> String {
        SHA256.hexDigest(tags.sorted { $0.key < $1.key }.map { "\($0.key)\u{0}\($0.value)" }.joined(separator: "\u{0}\u{0}"))
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
