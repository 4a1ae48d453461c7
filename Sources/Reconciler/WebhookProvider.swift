import HookSpec

/// The one seam between the reconciler and a registry. The planner and applier know only this.
///
/// Implementations: ``LocalRegistryProvider`` (the embedded local registry) and, later, Azure.
/// Requirements use plain `throws` and throw ``ProviderError``; callers convert whatever arrives with
/// ``ProviderError/from(_:)``, so an implementation's stray error still becomes a classified failure.
/// Mutations must be idempotent (a retried create of a webhook that now exists succeeds), because the
/// applier retries after timeouts whose outcome is unknown.
public protocol WebhookProvider: Sendable {
    /// How the registry is shown in output, without secrets (e.g. `local: .hookapply/dev.json`).
    var displayName: String { get }
    /// Every webhook with every field, secrets and tags included, plus facts such as the tier's limit.
    func observe() async throws -> ObservedRegistry
    func create(_ webhook: WebhookState) async throws
    /// Updates `webhook.name` in place; `changedFields` lets providers send only what changed.
    func update(_ webhook: WebhookState, changedFields: Set<WebhookField>) async throws
    /// Deleting a webhook that is already gone succeeds.
    func delete(name: String) async throws
    /// Sends a ping event and returns the logged delivery.
    func ping(name: String) async throws -> DeliveryRecord
    /// The delivery log of one webhook, newest first.
    func events(name: String, limit: Int) async throws -> [DeliveryRecord]
}

/// The fields the planner compares.
public enum WebhookField: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    case serviceUri
    case customHeaders
    case actions
    case status
    case scope
    case location
    case tags

    public static func < (lhs: WebhookField, rhs: WebhookField) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// A provider failure: what happened (never a secret), and whether trying again may help.
public struct ProviderError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// Throttling, a 5xx, a timeout: retrying may succeed.
        case retryable
        /// Bad input, permissions, a conflict: retrying will not help.
        case fatal
    }

    public var kind: Kind
    /// A stable code such as `locked`, `corrupt-state`, `timeout`, `QuotaExceeded`.
    public var code: String
    public var message: String
    /// How long the registry asked us to wait before retrying, in seconds.
    public var retryAfter: Double?

    public init(_ kind: Kind, code: String, _ message: String, retryAfter: Double? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var isRetryable: Bool { kind == .retryable }

    /// Any error as a ProviderError: providers throw ProviderError, and anything else is a fatal surprise.
    public static func from(_ error: any Error) -> ProviderError {
        error as? ProviderError ?? ProviderError(.fatal, code: "unexpected", "\(error)")
    }
    public var description: String { "\(code): \(message)" }
}

/// One delivery attempt as logged: the request and the response or transport error. Secrets masked.
public struct DeliveryRecord: Hashable, Sendable, Codable {
    public struct Request: Hashable, Sendable, Codable {
        public var method: String
        /// Masked: no userinfo, no query.
        public var uri: String
        /// Custom header values masked.
        public var headers: [String: String]
        public var body: String

        public init(method: String, uri: String, headers: [String: String], body: String) {
            self.method = method
            self.uri = uri
            self.headers = headers
            self.body = body
        }
    }

    public struct Response: Hashable, Sendable, Codable {
        public var status: Int
        public var headers: [String: String]
        /// At most 4 KiB; `bodyTruncated` says when more was cut.
        public var body: String
        public var bodyTruncated: Bool

        public init(status: Int, headers: [String: String], body: String, bodyTruncated: Bool) {
            self.status = status
            self.headers = headers
            self.body = body
            self.bodyTruncated = bodyTruncated
        }
    }

    /// The event id (the ping's `id`).
    public var id: String
    public var webhook: String
    public var action: String
    /// RFC 3339.
    public var timestamp: String
    public var request: Request
    public var response: Response?
    /// The transport error when there is no response (refused, timed out, …).
    public var error: String?
    public var durationMilliseconds: Int
    /// Which attempt this was, for deliveries that are retried (1 for a ping).
    public var attempt: Int

    public init(
        id: String, webhook: String, action: String, timestamp: String, request: Request, response: Response?,
        error: String?, durationMilliseconds: Int, attempt: Int = 1
    ) {
        self.id = id
        self.webhook = webhook
        self.action = action
        self.timestamp = timestamp
        self.request = request
        self.response = response
        self.error = error
        self.durationMilliseconds = durationMilliseconds
        self.attempt = attempt
    }

    /// True when the endpoint answered 2xx.
    public var isSuccess: Bool { response.map { (200..<300).contains($0.status) } ?? false }
}
