import Foundation
import HookSpec

@testable import Reconciler

/// A provider that keeps webhooks in memory, records every call, and fails on demand.
actor InMemoryProvider: WebhookProvider {
    enum Operation: String, Sendable { case observe, create, update, delete }

    struct Call: Sendable, Equatable {
        var operation: Operation
        var name: String
    }

    nonisolated let displayName = "memory"
    private(set) var webhooks: [WebhookState]
    var facts: RegistryFacts
    private(set) var calls: [Call] = []
    private(set) var inFlight = 0
    private(set) var maxInFlight = 0
    /// Decides, per call and attempt (1-based, per operation and name), whether to fail.
    private let fault: @Sendable (Operation, String, Int) -> ProviderError?
    private var attempts: [String: Int] = [:]
    private let latency: UInt64
    /// Applies the mutation even when the fault says to fail (a timeout whose request went through).
    private let failAfterApplying: Bool

    init(
        webhooks: [WebhookState] = [], facts: RegistryFacts = RegistryFacts(), latencyNanoseconds: UInt64 = 0,
        failAfterApplying: Bool = false, fault: @escaping @Sendable (Operation, String, Int) -> ProviderError? = { _, _, _ in nil }
    ) {
        self.webhooks = webhooks
        self.facts = facts
        self.fault = fault
        self.latency = latencyNanoseconds
        self.failAfterApplying = failAfterApplying
    }

    private func begin(_ operation: Operation, _ name: String) async throws -> ProviderError? {
        calls.append(Call(operation: operation, name: name))
        let key = "\(operation.rawValue)/\(name.lowercased())"
        attempts[key, default: 0] += 1
        inFlight += 1
        maxInFlight = max(maxInFlight, inFlight)
        if latency > 0 { try? await Task.sleep(nanoseconds: latency) }
        inFlight -= 1
        let error = fault(operation, name, attempts[key] ?? 1)
        if let error, !failAfterApplying { throw error }
        return error
    }

    func observe() async throws -> ObservedRegistry {
        if let error = try await begin(.observe, "") { throw error }
        return ObservedRegistry(webhooks: webhooks, facts: facts)
    }

    func create(_ webhook: WebhookState) async throws {
        let pending = try await begin(.create, webhook.name)
        webhooks.removeAll { $0.name.lowercased() == webhook.name.lowercased() }
        webhooks.append(webhook)
        if let pending { throw pending }
    }

    func update(_ webhook: WebhookState, changedFields: Set<WebhookField>) async throws {
        let pending = try await begin(.update, webhook.name)
        guard let index = webhooks.firstIndex(where: { $0.name.lowercased() == webhook.name.lowercased() }) else {
            throw ProviderError(.fatal, code: "NotFound", "no webhook \(webhook.name)")
        }
        webhooks[index] = webhook
        if let pending { throw pending }
    }

    func delete(name: String) async throws {
        let pending = try await begin(.delete, name)
        webhooks.removeAll { $0.name.lowercased() == name.lowercased() }
        if let pending { throw pending }
    }

    func ping(name: String) async throws -> DeliveryRecord {
        throw ProviderError(.fatal, code: "unsupported", "no ping in memory")
    }

    func events(name: String, limit: Int) async throws -> [DeliveryRecord] { [] }

    func set(_ webhooks: [WebhookState]) { self.webhooks = webhooks }
}

/// Builders for specs and states in tests.
enum Fixture {
    static func webhook(
        _ name: String, uri: String = "https://h.example.com/x", headers: [(String, String)] = [], actions: [WebhookAction] = [.push],
        status: WebhookStatus = .enabled, scope: String = "", location: String? = nil
    ) -> ResolvedWebhook {
        ResolvedWebhook(name: name, serviceUri: uri, customHeaders: headers.map { ResolvedHeader(name: $0.0, value: $0.1) },
                        actions: actions, status: status, scope: scope, location: location)
    }

    static func state(
        _ name: String, owner: String? = "team", uri: String = "https://h.example.com/x", headers: [(String, String)] = [],
        actions: [WebhookAction] = [.push], status: WebhookStatus = .enabled, scope: String = "", location: String? = nil,
        tags: [String: String] = [:]
    ) -> WebhookState {
        var allTags = tags
        if let owner { allTags[WebhookState.ownerTag] = owner }
        return WebhookState(name: name, serviceUri: uri, customHeaders: headers.map { ResolvedHeader(name: $0.0, value: $0.1) },
                            actions: actions, status: status, scope: scope, location: location, tags: allTags)
    }

    static func spec(owner: String = "team", prune: PruneMode = .owned, _ webhooks: [ResolvedWebhook]) -> ResolvedSpec {
        ResolvedSpec(owner: owner, registries: [ResolvedRegistry(name: "dev", target: .local(path: "dev.json"), prune: prune, webhooks: webhooks)])
    }
}
