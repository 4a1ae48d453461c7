import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// A saved plan names its spec relative to itself, so the pair can move together (another checkout, a
/// CI artifact); a plan of a spec read from standard input says how to apply it.
@Suite struct PortablePlanTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    @Test("a plan saved in one checkout applies in a copy of it, touching only the copy")
    func anotherCheckout() async throws {
        let first = try Workspace(ReconcileCommandTests.spec)
        defer { first.remove() }
        let planned = await first.run(["plan", "--out", "plans/p.json"])
        #expect(planned.code == .success, "\(planned.stderr)")
        let saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first.directory + "/plans/p.json"))) as? [String: Any])
        #expect(saved["spec_file"] as? String == "../webhooks.json")
        let copy = try makeTemporaryDirectory() + "/checkout"
        defer { try? FileManager.default.removeItem(atPath: (copy as NSString).deletingLastPathComponent) }
        try FileManager.default.copyItem(atPath: first.directory, toPath: copy)
        let applied = await hookapply(["apply", "plans/p.json"], directory: copy)
        #expect(applied.code == .success, "\(applied.stderr)")
        #expect(FileManager.default.fileExists(atPath: copy + "/.hookapply/dev.json"))
        #expect(!FileManager.default.fileExists(atPath: first.directory + "/.hookapply/dev.json"))
        // From another folder, naming the plan by its path, it still finds its spec.
        let other = await hookapply(["apply", "checkout/plans/p.json"], directory: (copy as NSString).deletingLastPathComponent)
        #expect(other.code == .failure)  // already applied: the registry changed since the plan
        #expect(other.stderr.contains("stale"), "\(other.stderr)")
    }

    @Test("a plan of a spec from standard input says to pass it the same way, and then applies")
    func fromStandardInput() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let planned = await workspace.run(["plan", "-f", "-", "--out", "p.json"], stdin: ReconcileCommandTests.spec)
        #expect(planned.code == .success, "\(planned.stderr)")
        #expect(planned.stdout.contains("run: hookapply apply p.json -f - < (the same spec)"), "\(planned.stdout)")
        let withoutSpec = await workspace.run(["apply", "p.json"])
        #expect(withoutSpec.code == .usage)
        #expect(withoutSpec.stderr.contains("does not say where its spec is"), "\(withoutSpec.stderr)")
        #expect(withoutSpec.stderr.contains("hookapply apply -f - p.json < SPEC"), "\(withoutSpec.stderr)")
        let applied = await workspace.run(["apply", "p.json", "-f", "-"], stdin: ReconcileCommandTests.spec)
        #expect(applied.code == .success, "\(applied.stderr)")
    }

    @Test("the document 'plan --format json' prints is a plan file: 'apply -f SPEC' applies it")
    func jsonOutputApplies() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let planned = await workspace.run(["plan", "--format", "json"])
        #expect(planned.code == .success, "\(planned.stderr)")
        try workspace.write(planned.stdout, to: "printed.json")
        let withoutSpec = await workspace.run(["apply", "printed.json"])
        #expect(withoutSpec.code == .usage)
        #expect(withoutSpec.stderr.contains("hookapply apply -f SPEC printed.json"), "\(withoutSpec.stderr)")
        let applied = await workspace.run(["apply", "-f", "webhooks.json", "printed.json"])
        #expect(applied.code == .success, "\(applied.stderr)")
        #expect(await workspace.run(["plan", "--detailed-exitcode"]).code == .success)
    }

    @Test("a plan saved in the old format (1) is refused with 'plan again', and nothing changes")
    func oldFormatRefused() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        try workspace.write(#"{"format_version": 1, "hookapply_version": "0.1.0", "spec_file": "webhooks.json", "plan": {}}"#, to: "old.json")
        let applied = await workspace.run(["apply", "old.json"])
        #expect(applied.code == .failure)
        #expect(applied.stderr.contains("saved by an older hookapply (plan format 1"), "\(applied.stderr)")
        #expect(try await workspace.provider("dev").observe().webhooks.isEmpty)
    }
}

/// A saved plan is stale only when something it depends on changed, and it says what.
@Suite struct StalenessTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    @Test("another owner's webhook changing does not make the plan stale; a managed one's field change is named")
    func byWhatItTouches() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        let provider = workspace.provider("dev")
        try await provider.create(TestSupport.Fixture.state("othersx", owner: "someone-else"))
        try workspace.write(ReconcileCommandTests.spec.replacing("\"scope\": \"web:*\"", with: "\"scope\": \"web:v2\""))
        #expect(await workspace.run(["plan", "--out", "p.json"]).code == .success)
        // Another team changes its own webhook: nothing this plan relies on.
        try await provider.update(TestSupport.Fixture.state("othersx", owner: "someone-else", status: .disabled), changedFields: [.status])
        // Someone edits a field of a managed webhook this plan does not change.
        try await provider.update(TestSupport.Fixture.state("scanner", owner: "team", uri: "https://scan.example.com/v2", actions: [.push, .quarantine]),
                                  changedFields: [.serviceUri])
        let applied = await workspace.run(["apply", "p.json"])
        #expect(applied.code == .failure)
        #expect(applied.stderr.contains("saved plan is stale: dev/scanner: serviceUri changed; run plan again"), "\(applied.stderr)")
        #expect(!applied.stderr.contains("othersx"))
        // Only the other team's change: the plan applies.
        try await provider.update(TestSupport.Fixture.state("scanner", owner: "team", uri: "https://scan.example.com/v1", actions: [.push, .quarantine]),
                                  changedFields: [.serviceUri])
        let again = await workspace.run(["apply", "p.json"])
        #expect(again.code == .success, "\(again.stderr)")
    }
}
