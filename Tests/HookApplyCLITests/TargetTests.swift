import Foundation
import HookSpec
import LocalRegistry
import TestSupport
import Testing

@testable import HookApplyCLI

/// `--target REGISTRY/WEBHOOK` on plan and apply: only the targeted webhooks are planned, secrets of
/// the others are not needed, nothing else is pruned, saved plans carry their targets and are checked
/// only against what they touch, and a warning says so once per command.
@Suite struct TargetTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    static let spec = """
        {"version": 1, "owner": "team", "registries": [
          {"name": "dev", "local": {}, "webhooks": [
            {"name": "deploybot", "serviceUri": "https://deploy.example.com/h?k=${env:DEPLOY_KEY}", "actions": ["push"]},
            {"name": "scanner", "serviceUri": "https://scan.example.com/${env:SCAN_KEY}", "actions": ["push"]}]},
          {"name": "prod", "local": {}, "webhooks": [{"name": "audit", "serviceUri": "https://a.example.com/${env:AUDIT_KEY}", "actions": ["delete"]}]}]}
        """
    static let allKeys = ["DEPLOY_KEY": "deploy-key-1", "SCAN_KEY": "scan-key-1", "AUDIT_KEY": "audit-key-1"]
    static let warning = "warning: --target is for exceptional use"

    static func occurrences(_ text: String, _ part: String) -> Int { text.components(separatedBy: part).count - 1 }

    /// dev holds scanner (drifted) and an owned webhook the spec no longer declares.
    static func drifted() async throws -> Workspace {
        let workspace = try Workspace(spec)
        #expect(await workspace.run(["apply", "--auto-approve"], environment: allKeys).code == .success)
        let provider = workspace.provider()
        try await provider.update(WebhookState(name: "scanner", serviceUri: "https://scan.example.com/elsewhere", actions: [.push],
                                               tags: [WebhookState.ownerTag: "team"]), changedFields: [.serviceUri])
        try await provider.create(WebhookState(name: "oldhook", serviceUri: "https://old.example.com/", actions: [.push], tags: [WebhookState.ownerTag: "team"]))
        try await provider.delete(name: "deploybot")
        return workspace
    }

    @Test("only the target is planned: no other drift, no prune; only its variables are needed; one warning")
    func planOnlyTarget() async throws {
        let workspace = try await Self.drifted()
        defer { workspace.remove() }
        let full = await workspace.run(["plan"], environment: Self.allKeys)
        #expect(full.stdout.contains("Plan: 1 to create, 1 to update, 1 to delete."), "\(full.stdout)")
        let targeted = await workspace.run(["plan", "--target", "dev/deploybot", "--detailed-exitcode"], environment: ["DEPLOY_KEY": "deploy-key-1"])
        #expect(targeted.code == .changes, "\(targeted.stderr)")
        #expect(targeted.stdout.contains("Plan: 1 to create, 0 to update, 0 to delete."), "\(targeted.stdout)")
        #expect(!targeted.stdout.contains("scanner") && !targeted.stdout.contains("oldhook") && !targeted.stdout.contains("prod"))
        #expect(targeted.stdout.contains("Targeted: dev/deploybot. Other webhooks were not planned"))
        #expect(Self.occurrences(targeted.stderr, Self.warning) == 1, "\(targeted.stderr)")
        // Targeting a webhook only the registry holds plans its deletion (terraform's -target on a removed resource).
        let prune = await workspace.run(["plan", "--target", "dev/OldHook"])
        #expect(prune.stdout.contains("Plan: 0 to create, 0 to update, 1 to delete."), "\(prune.stdout)\(prune.stderr)")
        // Case-insensitive registry, repeated targets.
        let two = await workspace.run(["plan", "--target", "DEV/scanner", "--target", "dev/deploybot", "--target", "dev/scanner"], environment: Self.allKeys)
        #expect(two.stdout.contains("Plan: 1 to create, 1 to update, 0 to delete."), "\(two.stdout)\(two.stderr)")
        #expect(Self.occurrences(two.stderr, Self.warning) == 1)
    }

    @Test("apply --target changes the target only, and says the warning once")
    func applyOnlyTarget() async throws {
        let workspace = try await Self.drifted()
        defer { workspace.remove() }
        let applied = await workspace.run(["apply", "--auto-approve", "--target", "dev/deploybot"], environment: ["DEPLOY_KEY": "deploy-key-1"])
        #expect(applied.code == .success, "\(applied.stderr)")
        #expect(applied.stdout.contains("Apply complete: 1 created, 0 updated, 0 deleted."), "\(applied.stdout)")
        #expect(Self.occurrences(applied.stderr, Self.warning) == 1, "\(applied.stderr)")
        let names = try await workspace.provider().observe().webhooks.map(\.name).sorted()
        #expect(names == ["deploybot", "oldhook", "scanner"])
        let scanner = try #require(try await workspace.provider().observe().webhooks.first { $0.name == "scanner" })
        #expect(scanner.serviceUri == "https://scan.example.com/elsewhere", "an untargeted webhook is left as it is")
    }

    @Test("a saved targeted plan records its targets, ignores changes elsewhere, and is stale when its target changes")
    func savedTargetedPlan() async throws {
        let workspace = try await Self.drifted()
        defer { workspace.remove() }
        let planned = await workspace.run(["plan", "--target", "dev/scanner", "--out", "p.json"], environment: ["SCAN_KEY": "scan-key-1"])
        #expect(planned.code == .success, "\(planned.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(workspace.read("p.json").utf8)) as? [String: Any])
        #expect(document["targets"] as? [String] == ["dev/scanner"])
        #expect(document["format_version"] as? Int == 4)
        let schema = try SchemaCheck(schemaText: String(contentsOfFile: repositoryRoot + "/schema/hookapply-plan.schema.json", encoding: .utf8))
        #expect(try schema.problems(workspace.read("p.json")) == [])
        // A change to a webhook the plan does not touch does not make it stale.
        try await workspace.provider().delete(name: "oldhook")
        #expect(await workspace.run(["apply", "p.json", "--target", "dev/scanner"]).code == .usage)
        let applied = await workspace.run(["apply", "p.json"], environment: ["SCAN_KEY": "scan-key-1"])
        #expect(applied.code == .success, "\(applied.stderr)")
        #expect(applied.stdout.contains("dev/scanner: updated"), "\(applied.stdout)")
        #expect(Self.occurrences(applied.stderr, Self.warning) == 1, "\(applied.stderr)")
        #expect(try await workspace.provider().observe().webhooks.first { $0.name == "deploybot" } == nil, "deploybot was not targeted")
        // A change to the target itself does.
        #expect(await workspace.run(["plan", "--target", "dev/scanner", "--out", "q.json"], environment: ["SCAN_KEY": "scan-key-2"]).code == .success)
        try await workspace.provider().update(WebhookState(name: "scanner", serviceUri: "https://scan.example.com/again", actions: [.push],
                                                           tags: [WebhookState.ownerTag: "team"]), changedFields: [.serviceUri])
        let stale = await workspace.run(["apply", "q.json"], environment: ["SCAN_KEY": "scan-key-2"])
        #expect(stale.code == .failure)
        #expect(stale.stderr.contains("saved plan is stale: dev/scanner"), "\(stale.stderr)")
    }

    @Test("a target that matches nothing plans nothing, with a did-you-mean", arguments: [["plan"], ["apply", "--auto-approve"]])
    func matchesNothing(_ command: [String]) async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        let result = await workspace.run(command + ["--target", "dev/deploybto"])
        #expect(result.code == .success, "\(result.stderr)")
        #expect(result.stderr.contains("[target-matches-nothing]") && result.stderr.contains("did you mean 'dev/deploybot'?"), "\(result.stderr)")
        #expect(result.stdout.contains("No changes to the targeted webhooks."), "\(result.stdout)")
    }

    @Test("bad targets are usage errors, before anything is read", arguments: [
        (["--target", "dev"], "must be REGISTRY/WEBHOOK, such as dev/deploybot"),
        (["--target", "dev/a/b"], "must be REGISTRY/WEBHOOK"),
        (["--target", "/x"], "must be REGISTRY/WEBHOOK"),
        (["--target", "dve/deploybot"], "the spec has no registry 'dve'; it has 'dev', 'prod'; did you mean 'dev'?"),
        (["-r", "prod", "--target", "dev/deploybot"], "names registry 'dev', which --registry leaves out"),
    ])
    func badTargets(_ arguments: [String], _ message: String) async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        for command in [["plan"], ["apply", "--auto-approve"]] {
            let result = await workspace.run(command + arguments, environment: Self.allKeys)
            #expect(result.code == .usage)
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/.hookapply/dev.json"))
        }
    }
}
