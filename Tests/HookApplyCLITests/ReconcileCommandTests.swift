import Foundation
import HookKit
import HookSpec
import LocalRegistry
import Reconciler
import TestSupport
import Testing

@testable import HookApplyCLI

/// plan, apply, show, ping, events and export end to end, in process, against the local registry.
@Suite struct ReconcileCommandTests {
    /// A temporary folder holding `webhooks.json` and the local state under `.hookapply/`.
    struct Workspace {
        var directory: String

        init(_ spec: String) throws {
            directory = try makeTemporaryDirectory()
            try write(spec)
        }

        func write(_ spec: String) throws {
            try spec.write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        }

        func write(_ text: String, to name: String) throws {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }

        func run(_ arguments: [String], environment: [String: String] = [:], stdin: String = "", terminal: Bool = false,
                 answer: String? = nil) async -> CLIResult {
            await hookapply(arguments, environment: environment, directory: directory, stdin: stdin, terminal: terminal, answer: answer)
        }

        func provider(_ registry: String = "dev") -> LocalRegistryProvider {
            LocalRegistryProvider(path: directory + "/.hookapply/\(registry).json")
        }

        func read(_ path: String) -> String { (try? String(contentsOfFile: directory + "/" + path, encoding: .utf8)) ?? "" }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static let spec = """
        {
          "version": 1,
          "owner": "team",
          "registries": [
            {"name": "dev", "local": {}, "webhooks": [
              {"name": "deploybot", "serviceUri": "https://deploy.example.com/hook?code=${env:CODE:-c0de}", "customHeaders": {"Authorization": "Bearer ${env:TOKEN:-t0ken}"}, "actions": ["push"], "scope": "web:*"},
              {"name": "scanner", "serviceUri": "https://scan.example.com/v1", "actions": ["push", "quarantine"]}
            ]},
            {"name": "prod", "local": {}, "prune": "all", "webhooks": [
              {"name": "audit", "serviceUri": "https://audit.example.com/", "actions": ["delete"], "status": "disabled"}
            ]}
          ]
        }
        """

    @Test("apply then plan: no changes, exit 0 even with --detailed-exitcode")
    func applyThenPlan() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        let first = await workspace.run(["plan", "--detailed-exitcode"])
        #expect(first.code == .changes)
        #expect(first.stdout.contains("Plan: 3 to create, 0 to update, 0 to delete."))
        let applied = await workspace.run(["apply", "--auto-approve"])
        #expect(applied.code == .success, "\(applied.stderr)")
        #expect(applied.stdout.contains("Apply complete: 3 created, 0 updated, 0 deleted."))
        let again = await workspace.run(["plan", "--detailed-exitcode"])
        #expect(again.code == .success)
        #expect(again.stdout.contains("No changes. The registries match the spec."))
        // Running apply again converges to nothing to do.
        let noop = await workspace.run(["apply", "--auto-approve"])
        #expect(noop.code == .success)
        #expect(noop.stdout.contains("No changes."))
    }

    @Test("apply without a terminal and without --auto-approve fails at once and changes nothing")
    func nonInteractive() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        let result = await workspace.run(["apply"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("pass --auto-approve"))
        #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/.hookapply/dev.json"))
    }

    @Test("at a terminal apply asks, and only 'yes' applies")
    func prompt() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        let declined = await workspace.run(["apply"], terminal: true, answer: "y")
        #expect(declined.code == .failure)
        #expect(declined.stdout.contains("Only 'yes' will be accepted"))
        #expect(declined.stderr.contains("Apply cancelled"))
        #expect(try await workspace.provider().observe().webhooks.isEmpty)
        let accepted = await workspace.run(["apply"], terminal: true, answer: "yes")
        #expect(accepted.code == .success)
        #expect(try await workspace.provider().observe().webhooks.count == 2)
    }

    @Test("a saved plan applies without asking, exactly as planned")
    func savedPlan() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        let planned = await workspace.run(["plan", "--out", "plan.json"])
        #expect(planned.code == .success)
        #expect(planned.stdout.contains("hookapply apply plan.json"))
        let shown = await workspace.run(["show", "plan.json"])
        #expect(shown.code == .success)
        #expect(shown.stdout == (await workspace.run(["plan"])).stdout)
        let applied = await workspace.run(["apply", "plan.json"])
        #expect(applied.code == .success, "\(applied.stderr)")
        #expect(applied.stdout.contains("Apply complete: 3 created"))
        #expect((await workspace.run(["plan", "--detailed-exitcode"])).code == .success)
    }

    @Test("a saved plan is refused when the registry changed since, and nothing is changed")
    func staleRegistry() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        _ = await workspace.run(["plan", "--out", "plan.json"])
        try await workspace.provider().create(Fixture.state("sneaky"))
        let before = workspace.read(".hookapply/dev.json")
        let result = await workspace.run(["apply", "plan.json"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("saved plan is stale: dev/sneaky: now exists; run plan again"), "\(result.stderr)")
        #expect(workspace.read(".hookapply/dev.json") == before)
        #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/.hookapply/prod.json"))
    }

    @Test("a saved plan carries no digest of a secret, so a secret that resolves differently applies its new value; a changed spec is refused")
    func staleSecretOrSpec() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        _ = await workspace.run(["plan", "--out", "plan.json"], environment: ["TOKEN": "first-token-value"])
        let file = workspace.read("plan.json")
        for value in ["first-token-value", "Bearer first-token-value"] {
            #expect(!file.contains(value) && !file.contains(SHA256.hexDigest(value)), "the plan file carries '\(value)' or its digest")
        }
        try workspace.write(Self.spec.replacing("\"scope\": \"web:*\"", with: "\"scope\": \"web:v2\""))
        let edited = await workspace.run(["apply", "plan.json"], environment: ["TOKEN": "first-token-value"])
        #expect(edited.code == .failure)
        #expect(edited.stderr.contains("saved plan is stale: the spec webhooks.json changed"))
        #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/.hookapply/dev.json"))
        // The plan said "create, Authorization (sensitive value)": applying sets the spec's value, whatever it
        // resolves to now, as terraform's saved plans do for values they cannot show.
        try workspace.write(Self.spec)
        let rotated = await workspace.run(["apply", "plan.json"], environment: ["TOKEN": "second-token-value"])
        #expect(rotated.code == .success, "\(rotated.stderr)")
        #expect(workspace.read(".hookapply/dev.json").contains("Bearer second-token-value"))
        let garbage = await workspace.run(["apply", "webhooks.json"])
        #expect(garbage.code == .failure)
        #expect(garbage.stderr.contains("'webhooks.json' is a spec, not a saved plan; to apply it, run 'hookapply apply -f webhooks.json'"), "\(garbage.stderr)")
    }

    @Test("another apply's lock makes apply fail at once naming its pid")
    func locked() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        let lock = try await workspace.provider().lockForApply(timeout: 0)
        defer { lock.release() }
        let result = await workspace.run(["apply", "--auto-approve"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("is locked by another hookapply apply (pid \(getpid()))"))
        #expect(result.stderr.contains("--lock-timeout"))
    }

    @Test("a corrupt state file fails plan and apply and is left as it was")
    func corruptState() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        try FileManager.default.createDirectory(atPath: workspace.directory + "/.hookapply", withIntermediateDirectories: true)
        try "{oops".write(toFile: workspace.directory + "/.hookapply/dev.json", atomically: true, encoding: .utf8)
        for arguments in [["plan"], ["apply", "--auto-approve"]] {
            let result = await workspace.run(arguments)
            #expect(result.code == .failure)
            #expect(result.stderr.contains("is corrupt"))
        }
        #expect(workspace.read(".hookapply/dev.json") == "{oops")
        #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/.hookapply/prod.json"))
    }

    @Test("ownership: others' webhooks are left alone; a conflict fails the plan unless adopted")
    func ownership() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        try await workspace.provider().create(Fixture.state("manual", owner: nil))
        try await workspace.provider().create(Fixture.state("scanner", owner: "payments"))
        let conflict = await workspace.run(["plan", "--registry", "dev"])
        #expect(conflict.code == .failure)
        #expect(conflict.stderr.contains("webhooks.json:"))
        #expect(conflict.stderr.contains("[owner-conflict]") && conflict.stderr.contains("'payments'"))
        let adopted = await workspace.run(["plan", "--registry", "dev", "--adopt-conflicts"])
        #expect(adopted.code == .success)
        #expect(adopted.stdout.contains("Not managed, left alone:"))
        #expect(adopted.stdout.contains("manual (not managed by hookapply)"))
        #expect(adopted.stdout.contains("take over"))
        let unknown = await workspace.run(["plan", "--registry", "dve"])
        #expect(unknown.code == .usage)
        #expect(unknown.stderr.contains("did you mean 'dev'?"))
    }

    @Test("export describes the live registry as a valid spec that plans to no changes")
    func exportRoundTrip() async throws {
        let workspace = try Workspace(Self.spec)
        defer { workspace.remove() }
        _ = await workspace.run(["apply", "--auto-approve"])
        let exported = await workspace.run(["export", "--registry", "dev"])
        #expect(exported.code == .success, "\(exported.stderr)")
        #expect(!exported.stdout.contains("t0ken") && !exported.stdout.contains("c0de"))
        #expect(exported.stderr.contains("DEPLOYBOT_AUTHORIZATION") && exported.stderr.contains("DEPLOYBOT_URI_QUERY"))
        try exported.stdout.write(toFile: workspace.directory + "/exported.json", atomically: true, encoding: .utf8)
        let environment = ["DEPLOYBOT_AUTHORIZATION": "Bearer t0ken", "DEPLOYBOT_URI_QUERY": "code=c0de"]
        let validated = await workspace.run(["validate", "-f", "exported.json", "--resolve"], environment: environment)
        #expect(validated.code == .success, "\(validated.stderr)")
        let planned = await workspace.run(["plan", "-f", "exported.json", "--detailed-exitcode"], environment: environment)
        #expect(planned.code == .success, "\(planned.stdout)\(planned.stderr)")
        let literal = await workspace.run(["export", "--registry", "dev", "--include-secrets"])
        #expect(literal.stdout.contains("Bearer t0ken"))
        let ambiguous = await workspace.run(["export"])
        #expect(ambiguous.code == .usage)
        #expect(ambiguous.stderr.contains("choose one with --registry NAME"))
    }

    /// `dev` in a known state: one webhook to update (a secret header and the actions), one to adopt,
    /// one to delete, one left alone.
    static func busyWorkspace() async throws -> Workspace {
        let workspace = try Workspace(Self.spec)
        let dev = workspace.provider()
        try await dev.create(Fixture.state("deploybot", owner: "team", uri: "https://deploy.example.com/hook?code=old",
                                           headers: [("Authorization", "Bearer old"), ("X-Old", "1")], actions: [.push, .delete], scope: "web:*"))
        try await dev.create(Fixture.state("scanner", owner: nil, uri: "https://scan.example.com/v1", actions: [.quarantine, .push]))
        try await dev.create(Fixture.state("retired", owner: "team"))
        try await dev.create(Fixture.state("manual", owner: nil))
        return workspace
    }

    @Test("plan output: text, json and markdown (goldens)")
    func planGoldens() async throws {
        let workspace = try await Self.busyWorkspace()
        defer { workspace.remove() }
        try await workspace.provider("prod").create(Fixture.state("strayhook", owner: "other"))
        for format in ["text", "json", "markdown"] {
            let result = await workspace.run(["plan", "--format", format])
            #expect(result.code == .success, "\(result.stderr)")
            expectGolden("plan.\(format == "text" ? "txt" : format == "json" ? "json" : "md")", result.stdout)
        }
    }

    @Test("markdown stays under the comment size limit and says what it left out")
    func markdownLimit() async throws {
        let hooks = (0..<500).map { #"{"name": "hook\#($0)x", "serviceUri": "https://h.example.com/\#($0)", "customHeaders": {"A": "1", "B": "2"}, "actions": ["push", "delete"]}"# }
        let spec = #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [\#(hooks.joined(separator: ","))]}]}"#
        let workspace = try Workspace(spec)
        defer { workspace.remove() }
        let result = await workspace.run(["plan", "--format", "markdown"])
        #expect(result.code == .success)
        #expect(result.stdout.count < 65_000)
        #expect(result.stdout.contains("**Plan: 500 to create, 0 to update, 0 to delete.**"))
        #expect(result.stdout.contains("The plan was truncated:"))
        #expect(result.stdout.contains("</details>"))
    }

    @Test("ping and events through the CLI, exit 1 when the endpoint does not answer 2xx")
    func pingAndEvents() async throws {
        let good = try LoopbackReceiver()
        let bad = try LoopbackReceiver(status: 500)
        defer {
            good.stop()
            bad.stop()
        }
        let spec = """
            {"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [
              {"name": "goodhook", "serviceUri": "\(good.url)/ok", "actions": ["push"]},
              {"name": "badhook", "serviceUri": "\(bad.url)/fail", "actions": ["push"]}]}]}
            """
        let workspace = try Workspace(spec)
        defer { workspace.remove() }
        _ = await workspace.run(["apply", "--auto-approve"])
        let ok = await workspace.run(["ping", "goodhook"])
        #expect(ok.code == .success, "\(ok.stderr)")
        #expect(ok.stdout.contains("Response 200"))
        #expect(good.requests.count == 1)
        let failed = await workspace.run(["ping", "badhook"])
        #expect(failed.code == .failure)
        #expect(failed.stderr.contains("did not answer with 2xx"))
        // JSON: one object with the registry, the outcome and the logged delivery; still exit 1 on non-2xx.
        let failedJSON = await workspace.run(["ping", "badhook", "--format", "json"])
        #expect(failedJSON.code == .failure)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(failedJSON.stdout.utf8)) as? [String: Any])
        #expect(object["registry"] as? String == "dev" && object["success"] as? Bool == false)
        let delivery = try #require(object["delivery"] as? [String: Any])
        #expect((delivery["response"] as? [String: Any])?["status"] as? Int == 500)
        _ = await workspace.run(["ping", "badhook"])  // the JSON ping was logged too: three in all
        #expect(bad.requests.count == 3)
        let events = await workspace.run(["events", "goodhook", "--format", "json"])
        let records = try JSONDecoder().decode([DeliveryRecord].self, from: Data(events.stdout.utf8))
        #expect(records.count == 1 && records.first?.response?.status == 200)
        _ = await workspace.run(["ping", "goodhook"])
        let text = await workspace.run(["events", "goodhook", "--limit", "1"])
        #expect(text.stdout.split(separator: "\n").count == 1)
        let missing = await workspace.run(["ping", "nothere"])
        #expect(missing.code == .failure)
    }

    @Test("a planted secret never appears in any output, plan file or event log")
    func noSecretLeaks() async throws {
        let receiver = try LoopbackReceiver(echoHeaders: true)
        defer { receiver.stop() }
        let secret = "planted-\(UUID().uuidString)"
        let spec = """
            {"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [
              {"name": "leaky", "serviceUri": "\(receiver.url)/hook?sig=${env:LEAK}", "customHeaders": {"Authorization": "Bearer ${env:LEAK}"}, "actions": ["push"]}]}]}
            """
        let workspace = try Workspace(spec)
        defer { workspace.remove() }
        let environment = ["LEAK": secret]
        var outputs: [String] = []
        let runs: [[String]] = [
            ["validate", "--resolve"], ["plan"], ["plan", "--format", "json"], ["plan", "--format", "markdown"],
            ["plan", "--out", "saved.json"], ["show", "saved.json"], ["show", "saved.json", "--format", "json"],
            ["apply", "saved.json"], ["plan"], ["ping", "leaky"], ["events", "leaky"], ["events", "leaky", "--format", "json"],
            ["export", "--registry", "dev"],
        ]
        for arguments in runs {
            let result = await workspace.run(arguments, environment: environment)
            outputs.append(result.stdout + result.stderr)
        }
        // Change the secret and apply: the update's output must not show the old or the new value.
        let rotated = "rotated-\(UUID().uuidString)"
        let update = await workspace.run(["apply", "--auto-approve"], environment: ["LEAK": rotated])
        #expect(update.stdout.contains("(sensitive value changed)"))
        outputs.append(update.stdout + update.stderr)
        #expect(receiver.requests.contains { $0.headers["authorization"] == "Bearer \(secret)" })  // it was really sent
        for (index, output) in outputs.enumerated() {
            #expect(!output.contains(secret) && !output.contains(rotated), "leak in output of \(index < runs.count ? runs[index].joined(separator: " ") : "apply")")
        }
        for file in ["saved.json", ".hookapply/dev.events.jsonl"] {
            let content = workspace.read(file)
            #expect(!content.isEmpty, "\(file) should exist")
            #expect(!content.contains(secret), "leak in \(file)")
        }
    }
}
