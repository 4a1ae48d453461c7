import HookKit
import Foundation
import HookSpec
import TestSupport
import Testing

@testable import Reconciler

@Suite struct PlannerTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var id: String
        var spec: ResolvedSpec
        var observed: [WebhookState]
        var facts: RegistryFacts = RegistryFacts()
        /// Expected changes as "action name", in plan order.
        var changes: [String]
        var unmanaged: [String] = []
        var testDescription: String { id }
    }

    static let cases: [Case] = [
        Case(id: "empty registry: everything is created", spec: Fixture.spec([Fixture.webhook("alpha"), Fixture.webhook("beta")]),
             observed: [], changes: ["create alpha", "create beta"]),
        Case(id: "identical: no changes", spec: Fixture.spec([Fixture.webhook("alpha")]),
             observed: [Fixture.state("alpha")], changes: []),
        Case(id: "actions compared as a set", spec: Fixture.spec([Fixture.webhook("alpha", actions: [.delete, .push])]),
             observed: [Fixture.state("alpha", actions: [.push, .delete])], changes: []),
        Case(id: "header names compared case-insensitively", spec: Fixture.spec([Fixture.webhook("alpha", headers: [("authorization", "v")])]),
             observed: [Fixture.state("alpha", headers: [("Authorization", "v")])], changes: []),
        Case(id: "header values compared exactly", spec: Fixture.spec([Fixture.webhook("alpha", headers: [("Authorization", "V")])]),
             observed: [Fixture.state("alpha", headers: [("Authorization", "v")])], changes: ["update alpha"]),
        Case(id: "webhook names compared case-insensitively", spec: Fixture.spec([Fixture.webhook("alpha")]),
             observed: [Fixture.state("ALPHA")], changes: []),
        Case(id: "service URI compared exactly", spec: Fixture.spec([Fixture.webhook("alpha", uri: "https://h.example.com/x/")]),
             observed: [Fixture.state("alpha")], changes: ["update alpha"]),
        Case(id: "status change", spec: Fixture.spec([Fixture.webhook("alpha", status: .disabled)]),
             observed: [Fixture.state("alpha")], changes: ["update alpha"]),
        Case(id: "scope change", spec: Fixture.spec([Fixture.webhook("alpha", scope: "web:*")]),
             observed: [Fixture.state("alpha")], changes: ["update alpha"]),
        Case(id: "untagged webhook is adopted", spec: Fixture.spec([Fixture.webhook("alpha")]),
             observed: [Fixture.state("alpha", owner: nil)], changes: ["update alpha"]),
        Case(id: "other tags are kept and do not cause changes", spec: Fixture.spec([Fixture.webhook("alpha")]),
             observed: [Fixture.state("alpha", tags: ["cost-centre": "42"])], changes: []),
        Case(id: "location change replaces", spec: Fixture.spec([Fixture.webhook("alpha", location: "eastus")]),
             observed: [Fixture.state("alpha", location: "westus")], changes: ["replace alpha"]),
        Case(id: "location in display form is the same region", spec: Fixture.spec([Fixture.webhook("alpha", location: "westeurope")]),
             observed: [Fixture.state("alpha", location: "West Europe")], changes: []),
        Case(id: "no location in the spec means the registry's", spec: Fixture.spec([Fixture.webhook("alpha")]),
             observed: [Fixture.state("alpha", location: "westus")], facts: RegistryFacts(location: "westus"), changes: []),
        Case(id: "no location in the spec, webhook elsewhere: replace", spec: Fixture.spec([Fixture.webhook("alpha")]),
             observed: [Fixture.state("alpha", location: "eastus")], facts: RegistryFacts(location: "westus"), changes: ["replace alpha"]),
        Case(id: "prune owned deletes ours, leaves others", spec: Fixture.spec([]),
             observed: [Fixture.state("mine"), Fixture.state("theirs", owner: "other"), Fixture.state("manual", owner: nil)],
             changes: ["delete mine"], unmanaged: ["manual", "theirs"]),
        Case(id: "prune all deletes every undeclared webhook", spec: Fixture.spec(prune: .all, []),
             observed: [Fixture.state("mine"), Fixture.state("theirs", owner: "other"), Fixture.state("manual", owner: nil)],
             changes: ["delete manual", "delete mine", "delete theirs"]),
        Case(id: "prune none deletes nothing", spec: Fixture.spec(prune: .none, []),
             observed: [Fixture.state("mine"), Fixture.state("manual", owner: nil)], changes: [], unmanaged: ["manual", "mine"]),
        Case(id: "execution order: deletes, replaces, updates, creates",
             spec: Fixture.spec([Fixture.webhook("zcreate"), Fixture.webhook("aupdate", status: .disabled), Fixture.webhook("mreplace", location: "b")]),
             observed: [Fixture.state("aupdate"), Fixture.state("mreplace", location: "a"), Fixture.state("zzdelete"), Fixture.state("adelete")],
             changes: ["delete adelete", "delete zzdelete", "replace mreplace", "update aupdate", "create zcreate"]),
    ]

    @Test("plan actions per case", arguments: cases)
    func actions(_ testCase: Case) throws {
        let result = Planner.plan(testCase.spec, specDigest: "d", observed: ["dev": ObservedRegistry(webhooks: testCase.observed, facts: testCase.facts)])
        let plan = try #require(result.plan, "\(result.diagnostics)")
        let registry = try #require(plan.registries.first)
        #expect(registry.changes.map { "\($0.action.rawValue) \($0.webhook.lowercased())" } == testCase.changes)
        #expect(registry.unmanaged.map(\.name).sorted() == testCase.unmanaged)
    }

    @Test("without evidence (a plan only shown, or applied at once) the changes are the same; only the saved-plan evidence is left out", arguments: cases)
    func withoutEvidence(_ testCase: Case) throws {
        let observed = ["dev": ObservedRegistry(webhooks: testCase.observed, facts: testCase.facts)]
        let full = try #require(Planner.plan(testCase.spec, specDigest: "d", observed: observed).plan)
        let light = try #require(Planner.plan(testCase.spec, specDigest: "d", observed: observed, options: PlanOptions(recordsEvidence: false)).plan)
        #expect(light.changes == full.changes)
        #expect(light.registries.map(\.unmanaged) == full.registries.map(\.unmanaged))
        #expect(light.registries.allSatisfy { $0.dependencies == nil && $0.factsDigest == nil })
        #expect(full.registries.allSatisfy { $0.dependencies != nil && $0.factsDigest?.count == 64 })
    }

    @Test("a declared webhook with another owner's tag is a conflict naming both owners, unless adopting")
    func conflicts() throws {
        let spec = Fixture.spec(owner: "team", [Fixture.webhook("alpha")])
        let observed = ["dev": ObservedRegistry(webhooks: [Fixture.state("alpha", owner: "payments")])]
        let refused = Planner.plan(spec, specDigest: "d", observed: observed)
        #expect(refused.plan == nil)
        let diagnostic = try #require(refused.diagnostics.first)
        #expect(diagnostic.code == "owner-conflict")
        #expect(diagnostic.message.contains("'payments'") && diagnostic.message.contains("'team'"))
        #expect(diagnostic.pointer == "/registries/0/webhooks/0/name")
        let adopted = try #require(Planner.plan(spec, specDigest: "d", observed: observed, options: PlanOptions(adoptConflicts: true)).plan)
        let change = try #require(adopted.changes.first)
        #expect(change.action == .update)
        #expect(change.reasons.first?.contains("'payments'") == true)
        #expect(change.desired?.owner == "team")
    }

    @Test("the tier's limit counts declared webhooks and those left alone")
    func tierLimit() throws {
        let spec = Fixture.spec([Fixture.webhook("alpha"), Fixture.webhook("beta")])
        let facts = RegistryFacts(maxWebhooks: 2, tier: "Basic")
        let fits = Planner.plan(spec, specDigest: "d", observed: ["dev": ObservedRegistry(webhooks: [], facts: facts)])
        #expect(fits.plan != nil)
        let over = Planner.plan(spec, specDigest: "d", observed: ["dev": ObservedRegistry(webhooks: [Fixture.state("manual", owner: nil)], facts: facts)])
        #expect(over.plan == nil)
        let message = try #require(over.diagnostics.first { $0.code == "too-many-webhooks-for-tier" }?.message)
        #expect(message.contains("'Basic'") && message.contains("allows 2") && message.contains("3 webhooks"))
    }

    @Test("secrets are masked in changes, and a change hidden by masking still shows")
    func masking() throws {
        let secret = "s3cr3t-value"
        let spec = Fixture.spec([Fixture.webhook("alpha", uri: "https://u:\(secret)@h.example.com/x?code=\(secret)-new", headers: [("Authorization", "\(secret)-new")])])
        let observed = ["dev": ObservedRegistry(webhooks: [Fixture.state("alpha", uri: "https://h.example.com/x?code=\(secret)", headers: [("Authorization", secret)])])]
        let plan = try #require(Planner.plan(spec, specDigest: "d", observed: observed).plan)
        let change = try #require(plan.changes.first)
        let uri = try #require(change.fields.first { $0.field == .serviceUri })
        #expect(uri.isHiddenChange)
        #expect(uri.new == .text("https://h.example.com/x?…"))
        let header = try #require(change.fields.first { $0.field == .customHeaders })
        #expect(header.isHiddenChange && header.new == .masked)
        // Nothing encodable carries the secret (the desired state is in memory only).
        let encoded = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        #expect(!encoded.contains(secret))
        #expect(change.desired?.serviceUri.contains(secret) == true)
        // Nor any unkeyed digest of a secret, which a guess could be checked against offline.
        for value in [secret, "\(secret)-new", "code=\(secret)-new", "https://u:\(secret)@h.example.com/x?code=\(secret)-new"] {
            #expect(!encoded.contains(SHA256.hexDigest(value)), "a digest of '\(value)' is in the plan")
        }
    }

    @Test("the plan round-trips through JSON (without the in-memory desired state)")
    func codable() throws {
        let spec = Fixture.spec([Fixture.webhook("alpha"), Fixture.webhook("beta", status: .disabled)])
        let plan = try #require(Planner.plan(spec, specDigest: "d", observed: ["dev": ObservedRegistry(webhooks: [Fixture.state("beta"), Fixture.state("gone")])]).plan)
        let decoded = try JSONDecoder().decode(Plan.self, from: JSONEncoder().encode(plan))
        #expect(decoded.changes.map(\.webhook) == plan.changes.map(\.webhook))
        #expect(decoded.changes.allSatisfy { $0.desired == nil })
        #expect(decoded.summary == Plan.Summary(create: 1, update: 1, delete: 1))
    }

}

/// `--target` in the planner: only targeted webhooks change, untargeted ones still count against the tier
/// limit (they are not pruned), and dependencies cover only the targets.
@Suite struct TargetedPlannerTests {
    static let spec = Fixture.spec([Fixture.webhook("alpha"), Fixture.webhook("beta")])

    @Test("only the target is planned and depended on")
    func onlyTarget() throws {
        let observed = ["dev": ObservedRegistry(webhooks: [Fixture.state("beta", uri: "https://other.example.com/"), Fixture.state("gamma")])]
        let options = PlanOptions(targets: [PlanTarget(registry: "dev", webhook: "Alpha")])
        let plan = try #require(Planner.plan(Self.spec, specDigest: "d", observed: observed, options: options).plan)
        #expect(plan.changes.map { "\($0.action) \($0.webhook)" } == ["create alpha"])
        #expect(plan.targets == ["dev/alpha"])
        #expect(plan.registries.first?.dependencies.map { Array($0.keys) } == ["alpha"])
        let whole = try #require(Planner.plan(Self.spec, specDigest: "d", observed: observed).plan)
        #expect(whole.changes.count == 3, "untargeted, the same registry has three changes")
        #expect(whole.targets == nil)
    }

    @Test("untargeted webhooks keep their place: the tier limit counts them")
    func tierLimit() {
        let observed = ["dev": ObservedRegistry(webhooks: [Fixture.state("gamma"), Fixture.state("delta")], facts: RegistryFacts(maxWebhooks: 3, tier: "Basic"))]
        let targeted = Planner.plan(Self.spec, specDigest: "d", observed: observed, options: PlanOptions(targets: [PlanTarget(registry: "dev", webhook: "alpha")]))
        #expect(targeted.plan == nil)
        #expect(targeted.diagnostics.map(\.code) == ["too-many-webhooks-for-tier"])
    }
}
