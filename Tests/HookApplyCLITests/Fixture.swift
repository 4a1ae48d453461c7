import HookSpec
import Reconciler

/// Webhook states for seeding a local registry in tests.
enum Fixture {
    static func state(
        _ name: String, owner: String? = "team", uri: String = "https://h.example.com/x", headers: [(String, String)] = [],
        actions: [WebhookAction] = [.push], status: WebhookStatus = .enabled, scope: String = ""
    ) -> WebhookState {
        WebhookState(name: name, serviceUri: uri, customHeaders: headers.map { ResolvedHeader(name: $0.0, value: $0.1) },
                     actions: actions, status: status, scope: scope, tags: owner.map { [WebhookState.ownerTag: $0] } ?? [:])
    }
}
