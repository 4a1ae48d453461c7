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
    /// A Helm chart's manifest (its config media type was among the references): CloudEvents deliveries
    /// type it as a chart event. ACR's JSON has no place for it.
    public var isChart: Bool
    /// Set on a replayed dead letter: the original event's id, which its deliveries carry (the body's id,
    /// `webhook-id`), while ``id`` (`<original>#replay-<n>`) keys it in the queue.
    public var replayOf: String? = nil

    /// The id deliveries carry: the same for the original event and every replay of it.
    public var eventID: String { replayOf ?? id }

    /// What the event is about, for logs: `repository:tag`, or the repository alone (a delete).
    public var subject: String { tag.map { "\(repository):\($0)" } ?? repository }

    public init(id: String, action: WebhookAction, repository: String, tag: String?, body: [UInt8], isChart: Bool = false) {
        self.isChart = isChart
        self.id = id
        self.action = action
        self.repository = repository
        self.tag = tag
        self.body = body
    }
}
