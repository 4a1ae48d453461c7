import HookSpec

extension WebhookState {
    /// The tag that marks which spec owns a webhook.
    public static let ownerTag = "hookapply-owner"

    /// The owner named by the tag, nil for a webhook hookapply does not manage.
    public var owner: String? { tags[WebhookState.ownerTag] }

    /// The webhook as a spec with this owner asks for it: tagged, and with nothing else in its tags.
    public func owned(by owner: String) -> WebhookState {
        var copy = self
        copy.tags = [WebhookState.ownerTag: owner]
        return copy
    }
}
