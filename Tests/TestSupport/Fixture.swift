import HookSpec
import Reconciler

/// Builders for specs and states in tests.
public enum Fixture {
    /// A webhook as a resolved spec declares it (no tags).
    public static func webhook(
        _ name: String, uri: String = "https://h.example.com/x", headers: [(String, String)] = [], actions: [WebhookAction] = [.push],
        status: WebhookStatus = .enabled, scope: String = "", location: String? = nil
    ) -> WebhookState {
        state(name, owner: nil, uri: uri, headers: headers, actions: actions, status: status, scope: scope, location: location)
    }

    /// A webhook as a registry holds it, tagged for `owner` (nil: untagged).
    public static func state(
        _ name: String, owner: String? = "team", uri: String = "https://h.example.com/x", headers: [(String, String)] = [],
        actions: [WebhookAction] = [.push], status: WebhookStatus = .enabled, scope: String = "", location: String? = nil,
        tags: [String: String] = [:]
    ) -> WebhookState {
        var allTags = tags
        if let owner { allTags[WebhookState.ownerTag] = owner }
        return WebhookState(name: name, serviceUri: uri, customHeaders: headers.map { ResolvedHeader(name: $0.0, value: $0.1) },
                            actions: actions, status: status, scope: scope, location: location, tags: allTags)
    }

    /// A resolved spec with one local registry, `dev`.
    public static func spec(owner: String = "team", prune: PruneMode = .owned, _ webhooks: [WebhookState]) -> ResolvedSpec {
        ResolvedSpec(owner: owner, registries: [ResolvedRegistry(name: "dev", target: .local(path: "dev.json"), prune: prune, webhooks: webhooks)])
    }
}
