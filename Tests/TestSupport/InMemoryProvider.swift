import Foundation
import HookKit
import HookSpec
import Reconciler

/// The test double beside the provider seam: keeps webhooks in memory, records every call, and fails on
/// demand (per operation, name and attempt), so the planner and applier are tested without I/O.
public actor InMemoryProvider: WebhookProvider {
    public enum Operation: String, Sendable { case observe, create, update, delete }

    public struct Call: Sendable, Equatable {
        public var operation: Operation
        public var name: String

        public init(operation: Operation, name: String) {
            self.operation = operation
            self.name = name
        }
    }

    public nonisolated let displayName = "memory"
    /// How many times a full refresh (no cache) was asked for.
    public nonisolated let fullRefreshRequests = Locked(0)
    public private(set) var webhooks: [WebhookState]
    public var facts: RegistryFacts
    public private(set) var calls: [Call] = []
    public private(set) var inFlight = 0
    public private(set) var maxInFlight = 0
    /// Decides, per call and attempt (1-based, per operation and name), whether to fail.
    private let fault: @Sendable (Operation, String, Int) -> ProviderError?
    private var attempts: [String: Int] = [:]
    private let latency: UInt64
    /// Applies the mutation even when the fault says to fail (a timeout whose request went through).
    private let failAfterApplying: Bool

    public init(
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

    public func observe() async throws -> ObservedRegistry {
        if let error = try await begin(.observe, "") { throw error }
        return ObservedRegistry(webhooks: webhooks, facts: facts)
    }

    public func create(_ webhook: WebhookState) async throws {
        let pending = try await begin(.create, webhook.name)
        webhooks.removeAll { $0.name.lowercased() == webhook.name.lowercased() }
        webhooks.append(webhook)
        if let pending { throw pending }
    }

    public func update(_ webhook: WebhookState, changedFields: Set<WebhookField>) async throws {
        let pending = try await begin(.update, webhook.name)
        guard let index = webhooks.firstIndex(where: { $0.name.lowercased() == webhook.name.lowercased() }) else {
            throw ProviderError.fatal(.notFound, "no webhook \(webhook.name)")
        }
        webhooks[index] = webhook
        if let pending { throw pending }
    }

    public func delete(name: String) async throws {
        let pending = try await begin(.delete, name)
        webhooks.removeAll { $0.name.lowercased() == name.lowercased() }
        if let pending { throw pending }
    }

    public func ping(name: String) async throws -> DeliveryRecord {
        throw ProviderError.fatal(.unsupported, "no ping in memory")
    }

    /// Delivery records by lowercased webhook name, newest first (what `events` answers).
    public private(set) var deliveries: [String: [DeliveryRecord]] = [:]
    /// How many times `events` was called.
    public nonisolated let eventReads = Locked(0)

    public func events(name: String, limit: Int) async throws -> [DeliveryRecord] {
        eventReads.withLock { $0 += 1 }
        return Array((deliveries[name.lowercased()] ?? []).prefix(limit))
    }

    public func setDeliveries(_ records: [DeliveryRecord], for name: String) { deliveries[name.lowercased()] = records }

    public func set(_ webhooks: [WebhookState]) { self.webhooks = webhooks }
}

/// The in-memory registry keeps no cache; it counts what a loop asks of one.
extension InMemoryProvider: ObservationRefreshing {
    public nonisolated func refreshFully() { fullRefreshRequests.withLock { $0 += 1 } }
}
