import HookSpec
import TestSupport
import Testing

@testable import Reconciler

/// Properties over random specs and random starting registries.
@Suite struct ConvergenceTests {
    typealias Random = SeededRandom

    static let names = (0..<12).map { "hook\($0)x" }

    static func randomWebhook(_ name: String, _ random: inout Random) -> WebhookState {
        let actions = WebhookAction.allCases.filter { _ in random.chance(40) }
        let headerNames = ["Authorization", "X-Key", "x-key", "Content-Type"]
        var headers: [(String, String)] = []
        for header in headerNames where random.chance(30) && !headers.contains(where: { $0.0.lowercased() == header.lowercased() }) {
            headers.append((header, random.pick(["a", "b", "Bearer t"])))
        }
        return Fixture.webhook(
            random.chance(20) ? name.uppercased() : name,
            uri: random.pick(["https://a.example.com/x", "https://a.example.com/x?k=1", "https://b.example.com/"]),
            headers: headers, actions: actions.isEmpty ? [.push] : actions.shuffled(using: &random),
            status: random.pick([.enabled, .disabled]), scope: random.pick(["", "web:*", "web"]),
            location: random.chance(20) ? random.pick(["westus", "eastus"]) : nil)
    }

    static func randomState(_ name: String, owner: String, _ random: inout Random) -> WebhookState {
        var state = randomWebhook(name, &random).owned(by: owner)
        switch random.below(4) {
        case 0: state.tags = [:]  // unmanaged
        case 1: state.tags = [WebhookState.ownerTag: "other"]
        default: break
        }
        if random.chance(20) { state.tags["extra"] = "kept" }
        return state
    }

    @Test("apply(plan(spec, state)) leaves a state whose plan is empty, and prune never deletes what it must keep")
    func convergence() async throws {
        var random = Random(state: 7)
        for iteration in 0..<300 {
            let owner = "team"
            let prune = random.pick(PruneMode.allCases)
            let declared = Self.names.filter { _ in random.chance(50) }
            let spec = Fixture.spec(owner: owner, prune: prune, declared.map { Self.randomWebhook($0, &random) })
            var start: [WebhookState] = []
            for name in Self.names where random.chance(50) {
                // Declared webhooks owned by someone else would be a conflict; adopt them in half the runs.
                start.append(Self.randomState(name, owner: owner, &random))
            }
            let adopt = random.chance(50)
            let provider = InMemoryProvider(webhooks: start)
            let observed = try await provider.observe()
            let first = Planner.plan(spec, specDigest: "d", observed: ["dev": observed], options: PlanOptions(adoptConflicts: adopt))
            let conflicting = start.contains { state in
                state.owner != nil && state.owner != owner && declared.contains(state.name.lowercased())
            }
            if conflicting && !adopt {
                #expect(first.plan == nil, "iteration \(iteration): a conflict must refuse to plan")
                #expect(first.diagnostics.contains { $0.code == "owner-conflict" })
                continue
            }
            let plan = try #require(first.plan, "iteration \(iteration): \(first.diagnostics)")
            let report = await Applier(parallelism: 4).apply(plan, providers: ["dev": provider])
            #expect(report.isSuccess, "iteration \(iteration)")
            let after = try await provider.observe()
            let second = try #require(Planner.plan(spec, specDigest: "d", observed: ["dev": after], options: PlanOptions(adoptConflicts: adopt)).plan)
            #expect(second.isEmpty, "iteration \(iteration): \(second.changes.map { "\($0.action) \($0.webhook) \($0.fields.map(\.field))" })")
            // What must survive: every declared webhook, and every undeclared one prune may not touch.
            let remaining = Set(after.webhooks.map { $0.name.lowercased() })
            for name in declared { #expect(remaining.contains(name), "iteration \(iteration): declared \(name) missing") }
            for state in start where !declared.contains(state.name.lowercased()) {
                let mayDelete = prune == .all || (prune == .owned && state.owner == owner)
                #expect(remaining.contains(state.name.lowercased()) == !mayDelete,
                        "iteration \(iteration): \(state.name) owner \(state.owner ?? "none") prune \(prune)")
            }
            // Tags other tools set survive adoption and updates.
            for state in start where state.tags["extra"] != nil {
                if let now = after.webhooks.first(where: { $0.name.lowercased() == state.name.lowercased() }),
                    plan.changes.first(where: { $0.webhook.lowercased() == state.name.lowercased() })?.action != .replace
                {
                    #expect(now.tags["extra"] == "kept", "iteration \(iteration)")
                }
            }
        }
    }
}

extension Array {
    func shuffled(using random: inout SeededRandom) -> [Element] {
        var copy = self
        for index in stride(from: copy.count - 1, to: 0, by: -1) { copy.swapAt(index, random.below(index + 1)) }
        return copy
    }
}
