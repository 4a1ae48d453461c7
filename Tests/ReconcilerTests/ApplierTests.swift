import Foundation
import HookSpec
import TestSupport
import Testing

@testable import Reconciler

/// The applier against a fault-injecting provider.
@Suite struct ApplierTests {
    /// Records requested sleeps instead of sleeping.
    final class Sleeps: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Double] = []
        func record(_ value: Double) {
            lock.lock()
            values.append(value)
            lock.unlock()
        }
        var all: [Double] {
            lock.lock()
            defer { lock.unlock() }
            return values
        }
    }

    static func policy(_ sleeps: Sleeps, attempts: Int = 4) -> RetryPolicy {
        RetryPolicy(maxAttempts: attempts, baseDelay: 1, maxDelay: 8, sleep: { sleeps.record($0) }, random: { $0 })
    }

    static func plan(_ spec: ResolvedSpec, _ provider: InMemoryProvider) async throws -> Plan {
        let observed = try await provider.observe()
        return try #require(Planner.plan(spec, specDigest: "d", observed: ["dev": observed]).plan)
    }

    @Test("retryable failures are retried with backoff and succeed; retry-after is honoured")
    func retries() async throws {
        let provider = InMemoryProvider { operation, name, attempt in
            if operation == .create && name == "alpha" && attempt <= 2 {
                return ProviderError(.retryable, code: .service("TooManyRequests"), "slow down", retryAfter: attempt == 1 ? 5 : nil)
            }
            return nil
        }
        let sleeps = Sleeps()
        let plan = try await Self.plan(Fixture.spec([Fixture.webhook("alpha")]), provider)
        let report = await Applier(retryPolicy: Self.policy(sleeps)).apply(plan, providers: ["dev": provider])
        #expect(report.isSuccess)
        #expect(report.results.first?.attempts == 3)
        #expect(report.retries == 2)
        // First wait honours retry-after (5 s over a 1 s ceiling); the second is the jittered ceiling of 2 s.
        #expect(sleeps.all == [5, 2])
    }

    @Test("backoff is exponential with full jitter and capped")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: 0.5, maxDelay: 4, random: { $0 })
        #expect((1...6).map { policy.delay(afterAttempt: $0, retryAfter: nil) } == [0.5, 1, 2, 4, 4, 4])
        let jittered = RetryPolicy(baseDelay: 0.5, maxDelay: 4, random: { $0 / 2 })
        #expect(jittered.delay(afterAttempt: 3, retryAfter: nil) == 1)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 10) == 10)
    }

    @Test("fatal failures are not retried; other changes still run; the report tells the truth")
    func partialFailure() async throws {
        let provider = InMemoryProvider(webhooks: [Fixture.state("old"), Fixture.state("changed")]) { operation, name, _ in
            operation == .create && name == "broken" ? ProviderError(.fatal, code: .service("BadRequest"), "the registry refused it") : nil
        }
        let sleeps = Sleeps()
        let spec = Fixture.spec([Fixture.webhook("broken"), Fixture.webhook("fine"), Fixture.webhook("changed", status: .disabled)])
        let plan = try await Self.plan(spec, provider)
        let report = await Applier(retryPolicy: Self.policy(sleeps)).apply(plan, providers: ["dev": provider])
        #expect(!report.isSuccess)
        #expect(report.failures.map(\.change.webhook) == ["broken"])
        #expect(report.failures.first?.attempts == 1)
        #expect(sleeps.all.isEmpty)
        #expect(report.done == Plan.Summary(create: 1, update: 1, delete: 1))
        let names = Set(await provider.webhooks.map(\.name))
        #expect(names == ["fine", "changed"])
        // Running again converges: only the failed change remains.
        let again = try await Self.plan(spec, provider)
        #expect(again.changes.map(\.webhook) == ["broken"])
    }

    @Test("a retryable failure that never clears gives up after the bounded attempts")
    func givesUp() async throws {
        let provider = InMemoryProvider { operation, _, _ in
            operation == .delete ? ProviderError(.retryable, code: .service("ServiceUnavailable"), "down") : nil
        }
        await provider.set([Fixture.state("gone")])
        let sleeps = Sleeps()
        let plan = try await Self.plan(Fixture.spec([]), provider)
        let report = await Applier(retryPolicy: Self.policy(sleeps, attempts: 3)).apply(plan, providers: ["dev": provider])
        #expect(report.failures.first?.attempts == 3)
        #expect(sleeps.all.count == 2)
    }

    @Test("a create that timed out but succeeded does not fail on the retry")
    func idempotentCreate() async throws {
        let provider = InMemoryProvider(failAfterApplying: true) { operation, _, attempt in
            operation == .create && attempt == 1 ? ProviderError(.retryable, code: .service("timeout"), "no answer in time") : nil
        }
        let sleeps = Sleeps()
        let spec = Fixture.spec([Fixture.webhook("alpha")])
        let report = await Applier(retryPolicy: Self.policy(sleeps)).apply(try await Self.plan(spec, provider), providers: ["dev": provider])
        #expect(report.isSuccess)
        #expect(await provider.webhooks.count == 1)
        #expect(try await Self.plan(spec, provider).isEmpty)
    }

    @Test("deletes run before updates, updates before creates, within a registry")
    func ordering() async throws {
        let provider = InMemoryProvider(webhooks: [Fixture.state("d1"), Fixture.state("d2"), Fixture.state("u1"), Fixture.state("r1", location: "a")])
        let spec = Fixture.spec([Fixture.webhook("c1"), Fixture.webhook("c2"), Fixture.webhook("u1", status: .disabled), Fixture.webhook("r1", location: "b")])
        let report = await Applier(parallelism: 8).apply(try await Self.plan(spec, provider), providers: ["dev": provider])
        #expect(report.isSuccess)
        let calls = await provider.calls.filter { $0.operation != .observe }
        let phase: [InMemoryProvider.Operation: Int] = [.delete: 0, .update: 1, .create: 2]
        let phases = calls.map { phase[$0.operation] ?? -1 }
        #expect(phases == phases.sorted(), "\(calls)")
        // The replacement deleted, then created.
        #expect(calls.filter { $0.name == "r1" }.map(\.operation) == [.delete, .create])
        #expect(report.done == Plan.Summary(create: 3, update: 1, delete: 3))
    }

    @Test("a replacement whose delete fails does not create; it reports the failure")
    func replaceDeleteFails() async throws {
        let provider = InMemoryProvider(webhooks: [Fixture.state("r1", location: "a")]) { operation, _, _ in
            operation == .delete ? ProviderError(.fatal, code: .service("Forbidden"), "no") : nil
        }
        let report = await Applier().apply(try await Self.plan(Fixture.spec([Fixture.webhook("r1", location: "b")]), provider), providers: ["dev": provider])
        #expect(report.failures.count == 1)
        #expect(await provider.calls.contains { $0.operation == .create } == false)
    }

    @Test("the parallelism bound is never exceeded, across registries")
    func parallelismBound() async throws {
        var plans: [RegistryPlan] = []
        var providers: [String: any WebhookProvider] = [:]
        var memory: [InMemoryProvider] = []
        for registry in 0..<3 {
            let provider = InMemoryProvider(latencyNanoseconds: 2_000_000)
            let spec = ResolvedSpec(owner: "team", registries: [ResolvedRegistry(
                name: "r\(registry)", target: .local(path: "x"), prune: .owned,
                webhooks: (0..<20).map { Fixture.webhook("hook\($0)x") })])
            let plan = try #require(Planner.plan(spec, specDigest: "d", observed: ["r\(registry)": try await provider.observe()]).plan)
            plans += plan.registries
            providers["r\(registry)"] = provider
            memory.append(provider)
        }
        let tracker = Tracker()
        let tracked = providers.mapValues { TrackingProvider(inner: $0, tracker: tracker) as any WebhookProvider }
        let report = await Applier(parallelism: 5).apply(Plan(specDigest: "d", owner: "team", registries: plans), providers: tracked)
        #expect(report.isSuccess)
        #expect(report.results.count == 60)
        let peak = await tracker.peak
        #expect(peak <= 5)
        #expect(peak >= 2, "expected some concurrency, saw \(peak)")
    }

    actor Tracker {
        private(set) var current = 0
        private(set) var peak = 0
        func enter() {
            current += 1
            peak = max(peak, current)
        }
        func leave() { current -= 1 }
    }

    /// Counts calls in flight across every registry's provider.
    struct TrackingProvider: WebhookProvider {
        var inner: any WebhookProvider
        var tracker: Tracker
        var displayName: String { inner.displayName }
        func observe() async throws -> ObservedRegistry { try await inner.observe() }
        func create(_ webhook: WebhookState) async throws {
            await tracker.enter()
            try? await Task.sleep(nanoseconds: 2_000_000)
            await tracker.leave()
            try await inner.create(webhook)
        }
        func update(_ webhook: WebhookState, changedFields: Set<WebhookField>) async throws {
            try await inner.update(webhook, changedFields: changedFields)
        }
        func delete(name: String) async throws { try await inner.delete(name: name) }
        func ping(name: String) async throws -> DeliveryRecord { try await inner.ping(name: name) }
        func events(name: String, limit: Int) async throws -> [DeliveryRecord] { try await inner.events(name: name, limit: limit) }
    }
}
