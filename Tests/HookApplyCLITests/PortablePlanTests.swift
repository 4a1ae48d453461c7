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
        #expect(withoutSpec.stderr.contains("pass it the same way: hookapply apply p.json -f - < SPEC"), "\(withoutSpec.stderr)")
        let applied = await workspace.run(["apply", "p.json", "-f", "-"], stdin: ReconcileCommandTests.spec)
        #expect(applied.code == .success, "\(applied.stderr)")
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
