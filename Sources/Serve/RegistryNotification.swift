import HookSpec

/// One registry event in ACR's shape, ready to deliver: translated from a CNCF Distribution notification.
public struct RegistryNotification: Hashable, Sendable {
    /// The Distribution event's id, kept as the ACR event id (and the key for de-duplicating retried batches).
    public var id: String
    public var action: WebhookAction
    public var repository: String
    /// nil for deletes: ACR's delete event carries no tag.
    public var tag: String?
    /// The JSON body ACR would POST.
    public var body: [UInt8]

    /// What the event is about, for logs: `repository:tag`, or the repository alone (a delete).
    public var subject: String { tag.map { "\(repository):\($0)" } ?? repository }

    public init(id: String, action: WebhookAction, repository: String, tag: String?, body: [UInt8]) {
        self.id = id
        self.action = action
        self.repository = repository
        self.tag = tag
        self.body = body
    }
}
