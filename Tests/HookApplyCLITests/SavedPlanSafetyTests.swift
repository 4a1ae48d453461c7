import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// A saved plan is the approval for exactly its registries and changes: an edited one never widens
/// what applies, and a damaged one is refused with nothing changed.
@Suite struct SavedPlanSafetyTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    struct EditCase: CustomTestStringConvertible, Sendable {
        var id: String
        var message: String
        var edit: @Sendable (inout [String: Any]) -> Void
        var testDescription: String { id }
    }

    static let edits: [EditCase] = [
        EditCase(id: "registries emptied", message: "a change names registry 'dev', which the plan does not list") { plan in plan["registries"] = [Any]() },
        EditCase(id: "registries and changes emptied", message: "it lists no registries") { plan in
            plan["registries"] = [Any]()
            plan["changes"] = [Any]()
        },
        EditCase(id: "registry listed twice", message: "listed twice") { plan in
            let registries = plan["registries"] as? [Any] ?? []
            plan["registries"] = registries + registries
        },
        EditCase(id: "renamed to another registry", message: "the plan names the target of 'prod' as") { plan in
            var registries = plan["registries"] as? [[String: Any]] ?? []
            registries[0]["name"] = "prod"
            plan["registries"] = registries
            plan["changes"] = [Any]()
        },
        EditCase(id: "a change moved to another registry", message: "a change names registry 'prod', which the plan does not list") { plan in
            var changes = plan["changes"] as? [[String: Any]] ?? []
            changes[0]["registry"] = "prod"
            plan["changes"] = changes
        },
        EditCase(id: "a change removed", message: "the plan's changes for 'dev' are not what applying would do now") { plan in
            var changes = plan["changes"] as? [[String: Any]] ?? []
            changes.removeLast()
            plan["changes"] = changes
        },
        EditCase(id: "a change listed twice", message: "is changed twice") { plan in
            let changes = plan["changes"] as? [Any] ?? []
            plan["changes"] = changes + changes.prefix(1)
        },
        // What `show` displays must be what apply does: a target or unmanaged list edited to mislead a reviewer.
        EditCase(id: "the target edited", message: "the plan names the target of 'dev' as 'azure: innocuous in rg9', but applying would write 'local: .hookapply/dev.json'") { plan in
            var registries = plan["registries"] as? [[String: Any]] ?? []
            registries[0]["target"] = "azure: innocuous in rg9"
            plan["registries"] = registries
        },
        EditCase(id: "an unmanaged webhook added", message: "list of webhooks 'dev' does not manage is not what the registry holds now") { plan in
            var registries = plan["registries"] as? [[String: Any]] ?? []
            registries[0]["unmanaged"] = [["name": "decoy", "owner": "other", "reason": "owned by 'other'"]]
            plan["registries"] = registries
        },
        EditCase(id: "the dependencies removed", message: "records nothing to check it against") { plan in
            var registries = plan["registries"] as? [[String: Any]] ?? []
            registries[0]["dependencies"] = nil
            plan["registries"] = registries
        },
        EditCase(id: "the facts digest emptied", message: "records nothing to check it against") { plan in
            var registries = plan["registries"] as? [[String: Any]] ?? []
            registries[0]["facts_digest"] = ""
            plan["registries"] = registries
        },
        EditCase(id: "the spec digest removed", message: "not a valid plan file") { plan in plan["spec_digest"] = nil },
    ]

    @Test("an edited plan file is refused and nothing is changed", arguments: edits)
    func editedPlan(_ testCase: EditCase) async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let planned = await workspace.run(["plan", "--registry", "dev", "--out", "plan.json"])
        #expect(planned.code == .success, "\(planned.stderr)")
        let path = workspace.directory + "/plan.json"
        var file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        testCase.edit(&file)
        try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: path))
        let applied = await workspace.run(["apply", "plan.json"])
        #expect(applied.code == .failure)
        #expect(applied.stderr.contains(testCase.message), "\(applied.stderr)")
        #expect(applied.stderr.contains("othing was changed") || applied.stderr.contains("plan again"), "\(applied.stderr)")
        for registry in ["dev", "prod"] {
            #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/.hookapply/\(registry).json"), "\(registry) was written")
        }
    }

    @Test("an unedited plan for one registry applies that registry only")
    func appliesOnlyItsRegistries() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        #expect(await workspace.run(["plan", "--registry", "dev", "--out", "plan.json"]).code == .success)
        let applied = await workspace.run(["apply", "plan.json"])
        #expect(applied.code == .success, "\(applied.stderr)")
        #expect(FileManager.default.fileExists(atPath: workspace.directory + "/.hookapply/dev.json"))
        #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/.hookapply/prod.json"))
    }
}
