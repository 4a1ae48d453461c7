import HookSpec

/// The one seam between the reconciler and a registry. The planner and applier know only this.
///
/// Implementations live in their own targets (`Sources/Providers/Local`, `Sources/Providers/Azure`) and are
/// built only by the CLI's `ProviderFactory`; what some of them can do beyond this (hold a lock for an
/// apply, report call statistics, host `serve`) is said by the capability protocols in
/// ProviderCapabilities.swift, never found out by downcasting. Requirements use plain `throws` and throw ``ProviderError``; callers convert whatever arrives with
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
