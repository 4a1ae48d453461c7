import Foundation
import HookSpec
import TestSupport
import Testing

@testable import Reconciler

/// What keeps an apply from losing a webhook: plan-time location checks, provisioning states, a
/// replacement that puts the old webhook back when its create fails, and interrupts that stop only
/// what has not started.
@Suite struct SafetyTests {
    static func plan(_ spec: ResolvedSpec, _ provider: InMemoryProvider) async throws -> Plan {
        let observed = try await provider.observe()
        return try #require(Planner.plan(spec, specDigest: "d", observed: ["dev": observed]).plan)
    }

    static let once = RetryPolicy(maxAttempts: 1, sleep: { _ in })

    // MARK: - Locations

    struct LocationCase: CustomTestStringConvertible, Sendable {
        var location: String
        var allowed: [String]
        var accepted: Bool
        var suggestion: String? = nil
        var testDescription: String { "\(location) in \(allowed)" }
    }

    static let locationCases: [LocationCase] = [
        LocationCase(location: "westus", allowed: ["westus", "westeurope"], accepted: true),
        LocationCase(location: "westeurope", allowed: ["westus", "westeurope"], accepted: true),
        LocationCase(location: "WestEurope", allowed: ["westus", "West Europe"], accepted: true),
        LocationCase(location: "northeurope", allowed: ["westus", "westeurope"], accepted: false),
        LocationCase(location: "westeurop", allowed: ["westus", "westeurope"], accepted: false, suggestion: "westeurope"),
        LocationCase(location: "eastus", allowed: ["westus"], accepted: false),
    ]

    @Test("a webhook's location must be the registry's region or a replica's, compared as ARM does", arguments: locationCases)
    func locations(_ testCase: LocationCase) {
        let observed = ObservedRegistry(webhooks: [Fixture.state("alpha", location: "westus")],
                                        facts: RegistryFacts(location: "westus", locations: testCase.allowed))
        let result = Planner.plan(Fixture.spec([Fixture.webhook("alpha", location: testCase.location)]), specDigest: "d", observed: ["dev": observed])
        if testCase.accepted {
            #expect(result.plan != nil, "\(result.diagnostics)")
            return
        }
        #expect(result.plan == nil)
        let diagnostic = result.diagnostics.first { $0.code == "location-not-in-registry" }
        #expect(diagnostic != nil, "\(result.diagnostics)")
        #expect(diagnostic?.pointer.description == "/registries/0/webhooks/0/location")
        for region in testCase.allowed { #expect(diagnostic?.message.contains("'\(region)'") == true) }
        if let suggestion = testCase.suggestion { #expect(diagnostic?.message.contains("did you mean '\(suggestion)'?") == true) }
    }

    @Test("without known regions (a local registry) nothing is refused")
    func noRegionsKnown() {
        let observed = ObservedRegistry(webhooks: [], facts: RegistryFacts())
        #expect(Planner.plan(Fixture.spec([Fixture.webhook("alpha", location: "anywhere")]), specDigest: "d", observed: ["dev": observed]).plan != nil)
    }

    // MARK: - Provisioning state

    @Test("a webhook still being created, updated or deleted is refused with a clear message", arguments: [ProvisioningState.creating, .updating, .deleting])
    func inProgress(_ state: ProvisioningState) {
        let observed = ObservedRegistry(webhooks: [Fixture.state("alpha", status: .disabled)], provisioning: ["alpha": state])
        let result = Planner.plan(Fixture.spec([Fixture.webhook("alpha")]), specDigest: "d", observed: ["dev": observed])
        #expect(result.plan == nil)
        #expect(result.diagnostics.contains { $0.code == "webhook-in-progress" && $0.message.contains("still \(state.rawValue)") })
    }

    @Test("a webhook being deleted is neither matched nor pruned again")
    func deletingIsNotPruned() throws {
        let observed = ObservedRegistry(webhooks: [Fixture.state("gone")], provisioning: ["gone": .deleting])
        let plan = try #require(Planner.plan(Fixture.spec([]), specDigest: "d", observed: ["dev": observed]).plan)
        #expect(plan.isEmpty)
    }

    @Test("a failed or canceled provisioning state is drift, fixed by sending everything again", arguments: [ProvisioningState.failed, .canceled])
    func failedIsDrift(_ state: ProvisioningState) throws {
        let observed = ObservedRegistry(webhooks: [Fixture.state("alpha")], provisioning: ["alpha": state])
        let plan = try #require(Planner.plan(Fixture.spec([Fixture.webhook("alpha")]), specDigest: "d", observed: ["dev": observed]).plan)
        let change = try #require(plan.changes.first)
        #expect(change.action == .update)
        #expect(change.changedFields.contains(.provisioningState))
        #expect(change.reasons.contains { $0.contains("ended \(state.rawValue)") })
        // Once it succeeded, the same webhook matches.
        let settled = ObservedRegistry(webhooks: [Fixture.state("alpha")])
        #expect(try #require(Planner.plan(Fixture.spec([Fixture.webhook("alpha")]), specDigest: "d", observed: ["dev": settled]).plan).isEmpty)
    }

    @Test("ARM's provisioningState spellings", arguments: [("Creating", ProvisioningState?.some(.creating)), ("deleting", .deleting), ("Succeeded", nil), ("", nil), ("Weird", nil)])
    func provisioningSpelling(_ text: String, _ expected: ProvisioningState?) {
        #expect(ProvisioningState(service: text) == expected)
    }

    // MARK: - Safe replacement

    @Test("a replacement whose create fails puts the old webhook back, secrets included, and reports both")
    func replaceRestores() async throws {
        let old = Fixture.state("r1", uri: "https://h.example.com/old?code=OLD-SECRET", headers: [("Authorization", "Bearer OLD-TOKEN")], location: "westus")
        // The first create (the replacement in the new region) fails; the second (the restore) succeeds.
        let provider = InMemoryProvider(webhooks: [old]) { operation, _, attempt in
            operation == .create && attempt == 1 ? ProviderError.fatal(.service("RegistryResourceNotFound"), "no such region") : nil
        }
        let plan = try await Self.plan(Fixture.spec([Fixture.webhook("r1", location: "northeurope")]), provider)
        #expect(plan.changes.first?.action == .replace)
        let report = await Applier(retryPolicy: Self.once).apply(plan, providers: ["dev": provider])
        #expect(!report.isSuccess)
        guard case .failed(let code, let message) = report.results.first?.outcome else {
            Issue.record("expected a failure, got \(report.results)")
            return
        }
        #expect(code == "RegistryResourceNotFound")
        #expect(message.contains("no such region"))
        #expect(message.contains("put back"))
        // The registry holds exactly the webhook it had.
        #expect(await provider.webhooks == [old])
        #expect(await provider.calls.filter { $0.operation != .observe }.map(\.operation) == [.delete, .create, .create])
    }

    @Test("when even the restore fails, the report names the webhook as missing")
    func restoreFails() async throws {
        let provider = InMemoryProvider(webhooks: [Fixture.state("r1", location: "westus")]) { operation, _, _ in
            operation == .create ? ProviderError.fatal(.service("InternalServerError"), "service down") : nil
        }
        let plan = try await Self.plan(Fixture.spec([Fixture.webhook("r1", location: "northeurope")]), provider)
        let report = await Applier(retryPolicy: Self.once).apply(plan, providers: ["dev": provider])
        guard case .failed(_, let message) = report.results.first?.outcome else {
            Issue.record("expected a failure, got \(report.results)")
            return
        }
        #expect(message.contains("Webhook 'r1' is now MISSING from registry 'dev'"))
        #expect(message.contains("putting the old webhook back also failed"))
        #expect(await provider.webhooks.isEmpty)
    }

    @Test("a plan from a file has no observed webhook to restore; the change never encodes one")
    func previousIsNeverEncoded() async throws {
        let provider = InMemoryProvider(webhooks: [Fixture.state("r1", uri: "https://h.example.com/?code=PLANTED-SECRET", location: "westus")])
        let plan = try await Self.plan(Fixture.spec([Fixture.webhook("r1", location: "northeurope")]), provider)
        #expect(plan.changes.first?.previous != nil)
        let encoded = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        #expect(!encoded.contains("PLANTED-SECRET"))
    }

    // MARK: - Interrupts

    @Test("once interrupted, changes not yet started are skipped and those in flight finish")
    func interruptSkipsUnstarted() async throws {
        let stop = StopFlag()
        // Parallelism 1: changes run one at a time; the interrupt arrives during the second create.
        let provider = InMemoryProvider(latencyNanoseconds: 1_000_000) { operation, _, _ in
            if operation == .create { stop.count(upTo: 2) }
            return nil
        }
        let spec = Fixture.spec((0..<6).map { Fixture.webhook("hook\($0)x") })
        let plan = try await Self.plan(spec, provider)
        let report = await Applier(parallelism: 1, retryPolicy: Self.once).apply(plan, providers: ["dev": provider], shouldStop: { stop.value })
        let done = report.results.filter(\.isSuccess).map(\.change.webhook)
        let skipped = report.results.filter { if case .skipped = $0.outcome { true } else { false } }
        #expect(done.count == 2, "\(report.results)")
        #expect(skipped.count == 4)
        #expect(report.results.count == 6)
        // What the report says was done is exactly what the registry holds.
        #expect(Set(await provider.webhooks.map(\.name)) == Set(done))
    }

    @Test("an interrupt after a replacement's delete still creates the webhook again")
    func interruptFinishesReplacement() async throws {
        let stop = StopFlag()
        let provider = InMemoryProvider(webhooks: [Fixture.state("r1", location: "westus")]) { operation, _, _ in
            if operation == .delete { stop.set() }
            return nil
        }
        let plan = try await Self.plan(Fixture.spec([Fixture.webhook("r1", location: "westeurope"), Fixture.webhook("new1")]), provider)
        let report = await Applier(parallelism: 1, retryPolicy: Self.once).apply(plan, providers: ["dev": provider], shouldStop: { stop.value })
        #expect(report.results.first { $0.change.webhook == "r1" }?.isSuccess == true)
        #expect(await provider.webhooks.map(\.name) == ["r1"])
        #expect(report.results.first { $0.change.webhook == "new1" }?.outcome == .skipped(reason: Applier.interruptedReason))
    }

    final class StopFlag: Sendable {
        private let state = Mutex((stopped: false, count: 0))
        func set() { state.withLock { $0.stopped = true } }
        /// Stops once this has been called `limit` times.
        func count(upTo limit: Int) {
            state.withLock {
                $0.count += 1
                if $0.count >= limit { $0.stopped = true }
            }
        }
        var value: Bool { state.withLock { $0.stopped } }
    }
}

import Synchronization
